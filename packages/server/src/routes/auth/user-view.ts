import type { FastifyRequest } from 'fastify';
import { DEFAULT_NOTIFICATION_PREFERENCES } from '../../accounts/records.js';
import { publicBase } from '../../http/public-url.js';
import type { UserAccount, UserRecord } from '../../model.js';

/**
 * Where a user's profile image is served: one stable URL per user (a replaced image keeps it; its
 * ETag changes). Absolute, since a storefront on another origin puts it in an `<img>`: under
 * PUBLIC_URL when set, else on the origin the request came to (behind a proxy, with TRUST_PROXY,
 * the one it forwarded).
 */
export function profileImageUrl(request: FastifyRequest, storeId: string, userId: string): string {
  return `${publicBase(request)}/api/v1/${storeId}/storefront/profile-images/${encodeURIComponent(userId)}`;
}

/**
 * A user as the contract's User schema shows it. Where the Commerce Engine SDK types a field as a
 * string, a string is sent: `customer_id` is empty for an anonymous user, which has none.
 */
export function userView(user: UserRecord, request: FastifyRequest, account?: UserAccount) {
  return {
    id: user.id,
    first_name: user.firstName,
    last_name: user.lastName,
    email: user.email,
    phone: user.phone,
    country_code: user.countryCode,
    is_email_verified: user.isEmailVerified,
    is_phone_verified: user.isPhoneVerified,
    is_anonymous: user.isAnonymous,
    is_logged_in: !user.isAnonymous,
    profile_image_url: account?.profileImageEtag ? profileImageUrl(request, user.storeId, user.id) : null,
    login_methods: account?.loginMethods ?? [],
    notification_preferences: account?.notificationPreferences ?? DEFAULT_NOTIFICATION_PREFERENCES,
    customer_id: user.customerId ?? '',
    customer_group: null,
    business: null,
    created_at: new Date(user.createdAt).toISOString(),
    modified_at: new Date(user.modifiedAt).toISOString(),
  };
}

export function accountView(account: UserAccount, request: FastifyRequest) {
  return userView(account.user, request, account);
}
