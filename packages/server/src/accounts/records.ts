import { AppError } from '../errors/codes.js';
import type { Identifier, LoginMethod, NotificationPreferences, UserAccount } from '../model.js';
import type { Tenant } from '../tenants/directory.js';
import { ulid } from '../util/ids.js';
import type { CustomerContext } from './context.js';
import { normalizeEmail, normalizePhone, type Phone } from './identifiers.js';

export type { Identifier };

/** Reads `{email}` or `{phone, country_code}` from a request; BAD_REQUEST when neither or both. */
export function identifierFrom(input: {
  email?: string | null | undefined;
  phone?: string | null | undefined;
  country_code?: string | null | undefined;
}): Identifier {
  const hasEmail = typeof input.email === 'string';
  const hasPhone = typeof input.phone === 'string';
  if (hasEmail === hasPhone) {
    throw new AppError('BAD_REQUEST', 'Invalid request: give either email or phone.', {
      errors: { body: 'give either email or phone' },
    });
  }
  return hasEmail
    ? { email: normalizeEmail(input.email!) }
    : normalizePhone(input.phone!, input.country_code);
}

export function findAccount(
  ctx: CustomerContext,
  tenant: Tenant,
  id: Identifier,
): Promise<UserAccount | null> {
  return 'email' in id
    ? ctx.db.findAccountByEmail(tenant.record.id, id.email)
    : ctx.db.findAccountByPhone(tenant.record.id, id.countryCode, id.phone);
}

export const DEFAULT_NOTIFICATION_PREFERENCES: NotificationPreferences = {
  transactional: { email: true, sms: true, whatsapp: true },
  promotional: { email: false, sms: false, whatsapp: false },
  newsletter: { email: false, sms: false, whatsapp: false },
};

export interface NewAccount {
  email: string | null;
  phone: Phone | null;
  firstName: string | null;
  lastName: string | null;
  passwordHash: string | null;
  emailVerified: boolean;
  phoneVerified: boolean;
  loginMethods: LoginMethod[];
}

/** Creates a customer; USER_EXISTS when the email or phone is taken (checked by the database). */
export async function createAccount(
  ctx: CustomerContext,
  tenant: Tenant,
  input: NewAccount,
): Promise<UserAccount> {
  const now = ctx.clock.now();
  const account: UserAccount = {
    user: {
      id: ulid(now),
      storeId: tenant.record.id,
      isAnonymous: false,
      email: input.email,
      phone: input.phone?.phone ?? null,
      countryCode: input.phone?.countryCode ?? null,
      firstName: input.firstName,
      lastName: input.lastName,
      customerId: ulid(now),
      customerGroupId: null,
      isEmailVerified: input.emailVerified,
      isPhoneVerified: input.phoneVerified,
      createdAt: now,
      modifiedAt: now,
    },
    passwordHash: input.passwordHash,
    status: 'active',
    loginMethods: input.loginMethods,
    notificationPreferences: DEFAULT_NOTIFICATION_PREFERENCES,
    profileImageEtag: null,
  };
  if (!(await ctx.db.createAccount(account))) throw new AppError('USER_EXISTS');
  return account;
}

/** The account of a user id, or USER_NOT_FOUND (gone, or deactivated). */
export async function requireActiveAccount(
  ctx: CustomerContext,
  userId: string | null,
): Promise<UserAccount> {
  const account = userId ? await ctx.db.getAccount(userId) : null;
  if (account?.status !== 'active') throw new AppError('USER_NOT_FOUND');
  return account;
}

export function addMethod(methods: LoginMethod[], ...more: LoginMethod[]): LoginMethod[] {
  return [...new Set([...methods, ...more])];
}
