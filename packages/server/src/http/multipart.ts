import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/codes.js';

/**
 * The limits handed to @fastify/multipart: one file, a few parts in all, small headers. A body of
 * many parts fails at the parser, before any is buffered.
 */
export function imageUploadLimits(maxBytes: number) {
  return { fileSize: maxBytes, files: 1, fields: 4, parts: 5, fieldSize: 1024, headerPairs: 16 };
}

/** What @fastify/multipart's failures mean to a client; anything unlisted is a malformed body. */
const MULTIPART_CODES: Record<string, AppError['code']> = {
  FST_REQ_FILE_TOO_LARGE: 'IMAGE_TOO_LARGE',
};

/**
 * The bytes of the multipart body's one part, the file named `image`. Any other part (a second
 * file, a field), a body that is not multipart, or one the parser refuses is BAD_REQUEST; a file
 * over the limit is IMAGE_TOO_LARGE. The whole file is held in memory: it is at most the limit.
 */
export async function readImagePart(request: FastifyRequest): Promise<Uint8Array> {
  if (!request.isMultipart()) {
    throw new AppError('BAD_REQUEST', 'The body must be multipart/form-data with one file part, image.');
  }
  let image: Uint8Array | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file' || part.fieldname !== 'image' || image) {
        throw new AppError('BAD_REQUEST', 'The body must have exactly one part: the file image.');
      }
      image = await part.toBuffer();
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    const code = (error as { code?: string }).code;
    throw new AppError(
      (code && MULTIPART_CODES[code]) || 'BAD_REQUEST',
      code === 'FST_REQ_FILE_TOO_LARGE'
        ? undefined
        : 'The multipart body is malformed or has too many parts.',
    );
  }
  if (!image || image.byteLength === 0) {
    throw new AppError('BAD_REQUEST', 'The body must have one non-empty file part: image.');
  }
  return image;
}
