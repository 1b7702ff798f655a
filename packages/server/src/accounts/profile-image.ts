import { createHash } from 'node:crypto';
import { AppError } from '../errors/codes.js';
import type { ProfileImageRecord } from '../model.js';
import type { Tenant } from '../tenants/directory.js';
import type { CustomerContext } from './context.js';
import { imageTypeOf } from './image-type.js';
import { ownAccount } from './own-account.js';

/** A strong validator of the bytes (RFC 9110 §8.8.3): equal bytes, equal tag, on every instance. */
function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('base64url')}"`;
}

/**
 * POST (add, `replace` false) and PUT (replace) /auth/user/{id}/profile-image: the caller's own
 * account only. `read` yields the uploaded bytes; it runs once the caller is let through, so a
 * stranger's upload is refused before it is read. Answers the stored image's ETag.
 */
export async function saveProfileImage(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
  userId: string,
  read: () => Promise<Uint8Array>,
  replace: boolean,
): Promise<string> {
  const { account } = await ownAccount(ctx, tenant, bearer, userId);
  if (replace && !account.profileImageEtag) throw new AppError('PROFILE_IMAGE_NOT_FOUND');
  const bytes = await read();
  const contentType = imageTypeOf(bytes);
  if (!contentType) throw new AppError('UNSUPPORTED_IMAGE_TYPE');
  const now = ctx.clock.now();
  const image: ProfileImageRecord = {
    userId,
    storeId: tenant.record.id,
    contentType,
    bytes,
    etag: etagOf(bytes),
    createdAt: now,
    modifiedAt: now,
  };
  if (!(await ctx.db.putProfileImage(image, replace))) {
    // The account or its image went away between the check and the write.
    throw new AppError(replace ? 'PROFILE_IMAGE_NOT_FOUND' : 'USER_NOT_FOUND');
  }
  return image.etag;
}

/** GET /auth/user/{id}/profile-image: the caller's own image's ETag, or PROFILE_IMAGE_NOT_FOUND. */
export async function profileImageOf(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
  userId: string,
): Promise<string> {
  const { account } = await ownAccount(ctx, tenant, bearer, userId);
  if (!account.profileImageEtag) throw new AppError('PROFILE_IMAGE_NOT_FOUND');
  return account.profileImageEtag;
}

/** DELETE /auth/user/{id}/profile-image. */
export async function removeProfileImage(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
  userId: string,
): Promise<void> {
  await ownAccount(ctx, tenant, bearer, userId);
  if (!(await ctx.db.deleteProfileImage(userId))) throw new AppError('PROFILE_IMAGE_NOT_FOUND');
}

/**
 * The image served at a User's `profile_image_url`, to anyone holding the URL: an `<img>` sends no
 * credentials, and a user id (a ULID, 80 random bits) cannot be guessed. Another store's user is
 * not found here.
 */
export async function publishedProfileImage(
  ctx: CustomerContext,
  tenant: Tenant,
  userId: string,
): Promise<ProfileImageRecord> {
  const image = await ctx.db.getProfileImage(userId);
  if (!image || image.storeId !== tenant.record.id) throw new AppError('PROFILE_IMAGE_NOT_FOUND');
  return image;
}
