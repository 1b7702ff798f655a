import { AppError } from '../errors/codes.js';
import type { Tenant } from '../tenants/directory.js';
import type { ClientInfo, CustomerContext } from './context.js';
import type { OtpMessage } from './delivery/contract.js';
import { normalizeEmail, normalizePhone, type Phone } from './identifiers.js';
import { type IssuedOtp, issueOtp, limitOtpSend } from './otp.js';
import { checkNewPassword } from './passwords.js';
import { findAccount } from './records.js';

export interface RegistrationInput {
  /** Where the verification code goes; that identifier is required. */
  channel: OtpMessage['channel'];
  email?: string | null | undefined;
  phone?: string | null | undefined;
  countryCode?: string | null | undefined;
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  password?: { password: string; confirmPassword: string } | undefined;
}

/** What verify-otp needs to create the account; kept on the OTP row, never sent to the client. */
export interface PendingRegistration {
  email: string | null;
  phone: Phone | null;
  firstName: string | null;
  lastName: string | null;
  passwordHash: string | null;
  channel: OtpMessage['channel'];
}

/**
 * POST /auth/register/{password,email,phone,whatsapp} and generate-otp for `register`: checks the
 * input and sends a code. Nothing is created yet: the account exists once verify-otp (otp_action
 * `register`) proves the email or phone, so an abandoned registration leaves no account behind.
 */
export async function startRegistration(
  ctx: CustomerContext,
  tenant: Tenant,
  input: RegistrationInput,
  client: ClientInfo,
): Promise<IssuedOtp> {
  if (input.password) checkNewPassword(input.password.password, input.password.confirmPassword);
  const email = typeof input.email === 'string' ? normalizeEmail(input.email) : null;
  const phone = typeof input.phone === 'string' ? normalizePhone(input.phone, input.countryCode) : null;
  const byEmail = input.channel === 'email';
  if (byEmail ? !email : !phone) {
    const field = byEmail ? 'email' : 'phone';
    throw new AppError('BAD_REQUEST', `Invalid request: ${field} is required.`, {
      errors: { [field]: 'is required' },
    });
  }
  const to = byEmail ? { email: email! } : phone!;
  await limitOtpSend(ctx, tenant, to, client);
  // Only the identifier the code goes to is claimed; the other one the account gets pending, and a
  // pending identifier blocks nobody (nor is blocked by anybody) until it is proven.
  if (await findAccount(ctx, tenant, to)) throw new AppError('USER_EXISTS');
  const pending: PendingRegistration = {
    email,
    phone,
    firstName: input.firstName?.trim() || null,
    lastName: input.lastName?.trim() || null,
    passwordHash: input.password ? await ctx.hasher.hash(input.password.password) : null,
    channel: input.channel,
  };
  return issueOtp(
    ctx,
    tenant,
    { action: 'register', channel: input.channel, to, userId: null, payload: { ...pending } },
    client,
  );
}
