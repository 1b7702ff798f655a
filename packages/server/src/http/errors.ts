import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES, type ErrorCode } from '../errors/codes.js';
import type { ErrorBody } from './envelope.js';

/** Fastify's own failures (body parsing, limits), mapped to registry codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
};

type ValidationIssue = { instancePath?: string; message?: string; params?: Record<string, unknown> };

/** Ajv's findings as `{field: problem}`, without echoing any submitted value. */
function fieldErrors(issues: ValidationIssue[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const missing = issue.params?.['missingProperty'];
    const field =
      typeof missing === 'string'
        ? [issue.instancePath?.slice(1), missing].filter(Boolean).join('.')
        : issue.instancePath?.slice(1).replaceAll('/', '.') || 'body';
    errors[field] ??= typeof missing === 'string' ? 'is required' : (issue.message ?? 'is invalid');
  }
  return errors;
}

/**
 * The status of `code` on this route. Operations answer only the statuses their OpenAPI entry
 * declares (the Commerce Engine contract's): where an operation declares no 404, a not-found code
 * is answered 400 with the same code, which is what clients branch on.
 */
function statusOn(request: FastifyRequest, code: ErrorCode): number {
  const status = ERROR_CODES[code].status;
  if (status !== 404) return status;
  const declared = (request.routeOptions?.schema as { response?: Record<string, unknown> } | undefined)
    ?.response;
  return declared && !('404' in declared) ? 400 : status;
}

function send(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  message?: string,
  errors?: Record<string, string>,
) {
  const body: ErrorBody = { message: message ?? ERROR_CODES[code].message, success: false, code };
  if (errors) body.errors = errors;
  return reply.status(statusOn(request, code)).send(body);
}

/** The one place where failures become HTTP answers. A 5xx never carries internals. */
export function errorHandler(error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError) {
    if (error.headers) reply.headers(error.headers);
    return send(request, reply, error.code, error.message, error.errors);
  }
  if (error.validation) {
    const errors = fieldErrors(error.validation as ValidationIssue[]);
    const fields = Object.keys(errors);
    return send(
      request,
      reply,
      'BAD_REQUEST',
      `Invalid request: ${fields.map((f) => `${f} ${errors[f]}`).join('; ')}.`,
      errors,
    );
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) {
    // Parser messages can quote the body (a token); use the registry's words instead.
    const message =
      error.code === 'FST_ERR_BAD_URL'
        ? 'The URL is malformed.'
        : mapped === 'BAD_REQUEST'
          ? 'The request body is not valid JSON.'
          : undefined;
    return send(request, reply, mapped, message);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return send(
      request,
      reply,
      status === 404 ? 'NOT_FOUND' : status === 405 ? 'METHOD_NOT_ALLOWED' : 'BAD_REQUEST',
    );
  }
  request.log.error({ err: error }, 'unhandled error');
  return send(request, reply, 'INTERNAL_ERROR');
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return send(request, reply, 'NOT_FOUND');
}
