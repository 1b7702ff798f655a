import { DEFAULT_NOTIFICATION_PREFERENCES } from '../../accounts/records.js';
import type { UserAccount, UserRecord } from '../../model.js';

/** A user as the contract's User schema shows it. */
export function userView(user: UserRecord, account?: UserAccount) {
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
    profile_image_url: null,
    login_methods: account?.loginMethods ?? [],
    notification_preferences: account?.notificationPreferences ?? DEFAULT_NOTIFICATION_PREFERENCES,
    customer_id: user.customerId,
    customer_group: null,
    business: null,
    created_at: new Date(user.createdAt).toISOString(),
    modified_at: new Date(user.modifiedAt).toISOString(),
  };
}

export function accountView(account: UserAccount) {
  return userView(account.user, account);
}
