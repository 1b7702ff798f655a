import { onOwnAccount } from './own-account.js';

/** PUT /auth/user/{id}/deactivate: the account can no longer sign in and every session ends now. */
export const deactivateUser = onOwnAccount((ctx, userId) => ctx.db.deactivateUser(userId, ctx.clock.now()));
