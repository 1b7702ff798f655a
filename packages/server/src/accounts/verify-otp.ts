import { AppError } from '../errors/codes.js';
import type { LoginMethod, OtpAction, OtpRecord, UserAccount, UserPatch } from '../model.js';
import { openSession } from '../sessions/create.js';
import type { Tenant } from '../tenants/directory.js';
import type { TokenPair } from '../tokens/issue.js';
import { authenticateCustomer } from './authenticate.js';
import type { ClientInfo, CustomerContext } from './context.js';
import type { Phone } from './identifiers.js';
import { consumeOtp } from './otp.js';
import { addMethod, createAccount, requireActiveAccount } from './records.js';
import type { PendingRegistration } from './register.js';
import { signIn } from './sign-in.js';

function methodsFor(channel: OtpRecord['channel']): LoginMethod[] {
  return channel === 'email' ? ['email'] : ['phone', 'whatsapp'];
}

/** The channel proved the caller holds that email or phone. */
function verifiedFlags(channel: OtpRecord['channel']): UserPatch {
  return channel === 'email' ? { isEmailVerified: true } : { isPhoneVerified: true };
}

async function applyPatch(ctx: CustomerContext, userId: string, patch: UserPatch): Promise<UserAccount> {
  const outcome = await ctx.db.updateUser(userId, patch, ctx.clock.now());
  if (outcome === 'conflict') throw new AppError('USER_EXISTS');
  return requireActiveAccount(ctx, userId);
}

/**
 * POST /auth/verify-otp: spends the code, then does what its action says, and signs the caller in
 * with a new session. A `reset-password` code verified here proves the email or phone as a login
 * code does, and signs in the same way; its otp_token then sets the new password at
 * /auth/reset-password, once, within the code's lifetime.
 */
export async function verifyOtp(
  ctx: CustomerContext,
  tenant: Tenant,
  input: { otpToken: string; otp: string; action: OtpAction },
  client: ClientInfo,
): Promise<{ account: UserAccount; tokens: TokenPair }> {
  // Verifying or changing an email or phone acts on the signed-in customer: check that first, so a
  // missing login does not spend the code.
  const isAccountChange =
    input.action !== 'register' && input.action !== 'login' && input.action !== 'reset-password';
  const caller = isAccountChange ? await authenticateCustomer(ctx, tenant, client.bearer) : null;

  const otp = await consumeOtp(ctx, tenant, input.action, input.otpToken, input.otp);
  let account: UserAccount;
  switch (input.action) {
    case 'register': {
      const pending = otp.payload as unknown as PendingRegistration;
      account = await createAccount(ctx, tenant, {
        email: pending.email,
        phone: pending.phone,
        firstName: pending.firstName,
        lastName: pending.lastName,
        passwordHash: pending.passwordHash,
        emailVerified: pending.channel === 'email',
        phoneVerified: pending.channel !== 'email',
        loginMethods: [
          ...methodsFor(pending.channel),
          ...(pending.passwordHash ? (['password'] as const) : []),
        ],
      });
      break;
    }
    case 'login': {
      if (otp.userId) {
        const existing = await requireActiveAccount(ctx, otp.userId);
        account = await applyPatch(ctx, otp.userId, {
          ...verifiedFlags(otp.channel),
          loginMethods: addMethod(existing.loginMethods, ...methodsFor(otp.channel)),
        });
      } else {
        // register_if_not_exists: the identifier the code went to becomes the account.
        const [email, phone] = splitIdentifier(otp);
        account = await createAccount(ctx, tenant, {
          email,
          phone,
          firstName: null,
          lastName: null,
          passwordHash: null,
          emailVerified: otp.channel === 'email',
          phoneVerified: otp.channel !== 'email',
          loginMethods: methodsFor(otp.channel),
        });
      }
      break;
    }
    case 'reset-password': {
      account = await requireActiveAccount(ctx, otp.userId);
      break;
    }
    default: {
      if (otp.userId !== caller!.user.id)
        throw new AppError('OTP_INVALID', 'This code belongs to another account.');
      const [email, phone] = splitIdentifier(otp);
      const patch: UserPatch = verifiedFlags(otp.channel);
      if (input.action === 'update-email') patch.email = email;
      if (input.action === 'update-phone') {
        patch.phone = phone!.phone;
        patch.countryCode = phone!.countryCode;
      }
      account = await applyPatch(ctx, otp.userId, patch);
      // The caller's tokens carry the old email/phone: replace the session with one that says the new.
      await ctx.db.revokeSession(caller!.session.id, 'login', ctx.clock.now());
      const { tokens } = await openSession(ctx, tenant, account.user, caller!.session.anonymousId);
      return { account, tokens };
    }
  }
  return signIn(ctx, tenant, account, client.bearer);
}

/** The identifier the code was sent to, as email or phone. */
function splitIdentifier(otp: OtpRecord): [string | null, Phone | null] {
  const to = otp.payload['to'] as { email: string } | Phone;
  return 'email' in to ? [to.email, null] : [null, { phone: to.phone, countryCode: to.countryCode }];
}
