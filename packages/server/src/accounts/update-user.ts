import { AppError } from '../errors/codes.js';
import type { LoginMethod, NotificationPreferences, UserAccount, UserPatch } from '../model.js';
import type { Tenant } from '../tenants/directory.js';
import type { CustomerContext } from './context.js';
import { normalizeEmail, normalizePhone } from './identifiers.js';
import { ownAccount } from './own-account.js';
import { requireActiveAccount } from './records.js';

export interface UserUpdate {
  first_name?: string | null;
  last_name?: string | null;
  email?: string | null;
  phone?: string | null;
  country_code?: string | null;
  login_methods?: LoginMethod[];
  notification_preferences?: NotificationPreferences;
}

/**
 * PUT /auth/user/{id}: changes the writable fields given (a partial body is fine). A new email or
 * phone is stored pending (unverified): it is not unique, opens no login and is dropped the moment
 * another customer proves it, until the caller proves it with generate-otp + verify-otp
 * (`update-email`/`update-phone` or `verify-email`/`verify-phone`).
 * `customer_group_id` and `business` are not the customer's to set here and are ignored.
 */
export async function updateUserDetail(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
  userId: string,
  input: UserUpdate,
): Promise<UserAccount> {
  const { account } = await ownAccount(ctx, tenant, bearer, userId);
  const user = account.user;
  const patch: UserPatch = {};
  if (input.first_name !== undefined) patch.firstName = input.first_name?.trim() || null;
  if (input.last_name !== undefined) patch.lastName = input.last_name?.trim() || null;
  if (input.email !== undefined) {
    const email = input.email === null ? null : normalizeEmail(input.email);
    if (email !== user.email) Object.assign(patch, { email, isEmailVerified: false });
  }
  if (input.phone !== undefined || input.country_code !== undefined) {
    const raw = input.phone !== undefined ? input.phone : user.phone;
    const phone = raw === null ? null : normalizePhone(raw, input.country_code ?? user.countryCode);
    const changed =
      phone === null
        ? user.phone !== null
        : phone.phone !== user.phone || phone.countryCode !== user.countryCode;
    if (changed) {
      Object.assign(patch, {
        phone: phone?.phone ?? null,
        countryCode: phone?.countryCode ?? null,
        isPhoneVerified: false,
      });
    }
  }
  const email = 'email' in patch ? patch.email : user.email;
  const phone = 'phone' in patch ? patch.phone : user.phone;
  if (email === null && phone === null) {
    throw new AppError('BAD_REQUEST', 'Invalid request: a customer keeps an email or a phone.', {
      errors: { body: 'a customer keeps an email or a phone' },
    });
  }
  if (input.login_methods !== undefined) patch.loginMethods = [...new Set(input.login_methods)];
  if (input.notification_preferences !== undefined)
    patch.notificationPreferences = input.notification_preferences;
  const outcome = await ctx.db.updateUser(userId, patch, ctx.clock.now());
  if (outcome === 'conflict') throw new AppError('USER_EXISTS');
  return requireActiveAccount(ctx, userId);
}
