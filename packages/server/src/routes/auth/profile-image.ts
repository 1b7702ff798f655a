import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CustomerContext } from '../../accounts/context.js';
import {
  profileImageOf,
  publishedProfileImage,
  removeProfileImage,
  saveProfileImage,
} from '../../accounts/profile-image.js';
import { ok } from '../../http/envelope.js';
import { imageUploadLimits, readImagePart } from '../../http/multipart.js';
import type { Services } from '../../http/services.js';
import { bearerToken, STORE_PREFIX, tenantOf } from '../../http/tenant.js';
import { routeSchema } from '../../openapi/document.js';
import { profileImageUrl } from './user-view.js';

type Params = { store_id: string; id: string };

const PATH = `${STORE_PREFIX}/auth/user/:id/profile-image`;

/**
 * POST and PUT /auth/user/{id}/profile-image, in a scope of their own: multipart bodies are parsed
 * here only, with the image size limit; any other body is left unread and refused by readImagePart.
 */
export async function registerProfileImageUploads(
  app: FastifyInstance,
  services: Services,
  ctx: CustomerContext,
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));
    await scope.register(multipart, { limits: imageUploadLimits(services.config.profileImageMaxBytes) });
    const save = (replace: boolean) => async (request: FastifyRequest<{ Params: Params }>) => {
      const tenant = await tenantOf(services, request);
      const { id } = request.params;
      await saveProfileImage(ctx, tenant, bearerToken(request), id, () => readImagePart(request), replace);
      return ok(replace ? 'Profile image updated successfully' : 'Profile image added successfully', {
        profile_image_url: profileImageUrl(request, tenant.record.id, id),
      });
    };
    scope.post<{ Params: Params }>(PATH, { schema: routeSchema('add-profile-image') }, save(false));
    scope.put<{ Params: Params }>(PATH, { schema: routeSchema('update-profile-image') }, save(true));
  });
}

/** GET and DELETE /auth/user/{id}/profile-image (no body), and the image itself at its URL. */
export function registerProfileImage(app: FastifyInstance, services: Services, ctx: CustomerContext): void {
  app.get<{ Params: Params }>(PATH, { schema: routeSchema('get-profile-image') }, async (request) => {
    const tenant = await tenantOf(services, request);
    await profileImageOf(ctx, tenant, bearerToken(request), request.params.id);
    return ok('Profile image retrieved successfully', {
      profile_image_url: profileImageUrl(request, tenant.record.id, request.params.id),
    });
  });
  app.delete<{ Params: Params }>(PATH, { schema: routeSchema('remove-profile-image') }, async (request) => {
    const tenant = await tenantOf(services, request);
    await removeProfileImage(ctx, tenant, bearerToken(request), request.params.id);
    return { message: 'Profile image removed successfully', success: true };
  });
  app.get<{ Params: Params }>(
    `${STORE_PREFIX}/profile-images/:id`,
    { schema: routeSchema('get-profile-image-file') },
    async (request, reply) => {
      const tenant = await tenantOf(services, request);
      const image = await publishedProfileImage(ctx, tenant, request.params.id);
      return sendImage(request, reply, image);
    },
  );
}

/**
 * The stored bytes under headers that keep them an image: the type we detected (never sniffed by
 * the browser), a CSP under which nothing runs if the URL is opened as a page, and a validator so
 * caches revalidate cheaply. `no-cache` (store, but ask each time) makes a replaced image show at once.
 */
function sendImage(
  request: FastifyRequest,
  reply: FastifyReply,
  image: { contentType: string; bytes: Uint8Array; etag: string; modifiedAt: number },
) {
  reply.headers({
    etag: image.etag,
    'cache-control': 'public, no-cache',
    'last-modified': new Date(image.modifiedAt).toUTCString(),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cross-origin-resource-policy': 'cross-origin',
  });
  if (matches(request.headers['if-none-match'], image.etag)) return reply.status(304).send();
  return reply.type(image.contentType).send(Buffer.from(image.bytes));
}

/** If-None-Match (RFC 9110 §13.1.2): `*` or a list of tags, compared weakly. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
