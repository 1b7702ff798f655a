import { readFileSync } from 'node:fs';

/**
 * The OpenAPI document (packages/server/openapi.json) is the source of truth: route validation
 * and serialization are derived from it here, it is served as-is at /openapi.json, and the SDK's
 * types are generated from it.
 */
export type OpenApiDocument = {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
};

type Operation = {
  operationId: string;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: unknown }>;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses: Record<string, unknown>;
};

export const openapiDocument: OpenApiDocument = JSON.parse(
  readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8'),
);

/** The serialized document, computed once: it is served on every /openapi.json request. */
export const openapiJson = JSON.stringify(openapiDocument);

function resolveRef(ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`Only local $ref are supported: ${ref}`);
  let node: unknown = openapiDocument;
  for (const part of ref.slice(2).split('/')) {
    node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  if (node === undefined) throw new Error(`Unresolvable $ref ${ref}`);
  return node;
}

/** A deep copy with every local $ref replaced by its target (the document has no cycles). */
export function deref<T>(node: T): T {
  if (Array.isArray(node)) return node.map(deref) as T;
  if (node && typeof node === 'object') {
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string') return deref(resolveRef(ref) as T);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = deref(v);
    return out as T;
  }
  return node;
}

export function findOperation(operationId: string): { path: string; method: string; operation: Operation } {
  for (const [path, item] of Object.entries(openapiDocument.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (operation?.operationId === operationId) return { path, method, operation };
    }
  }
  throw new Error(`No operation ${operationId} in openapi.json`);
}

/** The media types an operation's response for `status` documents, with their schemas. */
function responseContent(operationId: string, status: string | number): Record<string, { schema?: unknown }> {
  const { operation } = findOperation(operationId);
  const response = deref(operation.responses[String(status)]) as
    | { content?: Record<string, { schema?: unknown }> }
    | undefined;
  return response?.content ?? {};
}

/** JSON schema of an operation's response body for `status` in `mediaType`, or undefined. */
export function responseSchema(
  operationId: string,
  status: string | number,
  mediaType = 'application/json',
): unknown {
  return responseContent(operationId, status)[mediaType]?.schema;
}

/**
 * The Fastify route schema (body, query and responses) of an operation, taken from the document. A
 * response with more than one content type gets Fastify's per-content-type form: the reply's
 * Content-Type chooses the serializer.
 */
export function routeSchema(operationId: string): {
  body?: unknown;
  querystring?: unknown;
  response: Record<string, unknown>;
} {
  const { operation } = findOperation(operationId);
  const body = deref(operation.requestBody?.content?.['application/json']?.schema);
  const response: Record<string, unknown> = {};
  for (const status of Object.keys(operation.responses)) {
    const types = Object.entries(responseContent(operationId, status)).filter(
      ([, m]) => m.schema !== undefined,
    );
    if (types.length > 1) response[status] = { content: Object.fromEntries(types) };
    else if (types.length === 1) response[status] = types[0]![1].schema;
  }
  const query = (operation.parameters ?? []).filter((p) => p.in === 'query');
  const querystring = query.length
    ? {
        type: 'object',
        properties: Object.fromEntries(query.map((p) => [p.name, deref(p.schema)])),
        required: query.filter((p) => p.required).map((p) => p.name),
      }
    : undefined;
  return {
    ...(body === undefined ? {} : { body }),
    ...(querystring ? { querystring } : {}),
    response,
  };
}
