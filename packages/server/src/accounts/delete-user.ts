import { onOwnAccount } from './own-account.js';

/**
 * DELETE /auth/user/{id}: the account, its sessions and its codes are deleted; a refresh token of
 * any of its sessions then answers SESSION_NOT_FOUND. The email and phone become free again.
 */
export const deleteUser = onOwnAccount((ctx, userId) => ctx.db.deleteUser(userId));
