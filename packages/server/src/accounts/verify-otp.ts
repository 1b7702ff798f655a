import { AppError } from '../errors/codes.js';
import type { Identifier, LoginMethod, OtpAction, OtpRecord, UserAccount } from '../model.js';
import { openSession } from '../sessions/create.js';
import type { Tenant } from '../tenants/directory.js';
import type { TokenPair } from '../tokens/issue.js';
import { authenticateCustomer } from './authenticate.js';
import { claimProvenIdentifier } from './claim.js';
import type { ClientInfo, CustomerContext } from './context.js';
import { consumeOtp } from './otp.js';
import { addMethod, createAccount, findAccount, requireActiveAccount } from './records.js';
import type { PendingRegistration } from './register.js';
import { signIn } from './sign-in.js';

function methodsFor(channel: OtpRecord['channel']): LoginMethod[] {
  return channel === 'email' ? ['email'] : ['phone', 'whatsapp'];
}

/**
 * POST /auth/verify-otp: spends the code, which proves the caller holds the email or phone it went
 * to, then does what its action says, and signs the caller in with a new session. Every action
 * claims that identifier for the account it lands in (claimProvenIdentifier); a login only ever
 * lands in the account that has proven it. A `reset-password` code verified here proves the email
 * or phone as a login code does, and signs in the same way; its otp_token then sets the new
 * password at /auth/reset-password, once, within the code's lifetime.
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

  const otp = await consumeOtp(ctx, tenant, input.action, input.otpToken, input.otp, client);
  const proven = provenIdentifier(otp);
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
      await claimProvenIdentifier(ctx, tenant, account.user.id, proven);
      break;
    }
    case 'login': {
      // Looked up now, by the proven identifier, not by whichever account existed when the code
      // was sent: an account where it is only pending is never found.
      const existing = await findAccount(ctx, tenant, proven);
      if (existing) {
        if (existing.status !== 'active') throw new AppError('USER_NOT_FOUND');
        await claimProvenIdentifier(ctx, tenant, existing.user.id, proven);
        const methods = addMethod(existing.loginMethods, ...methodsFor(otp.channel));
        if (methods.length !== existing.loginMethods.length)
          await ctx.db.updateUser(existing.user.id, { loginMethods: methods }, ctx.clock.now());
      } else {
        // Codes sent before this flag rode on the payload had a null user id exactly when asked to register.
        const register = otp.payload['registerIfNotExists'] ?? otp.userId === null;
        if (register !== true) throw new AppError('USER_NOT_FOUND');
        const created = await createAccount(ctx, tenant, {
          email: 'email' in proven ? proven.email : null,
          phone: 'email' in proven ? null : proven,
          firstName: null,
          lastName: null,
          passwordHash: null,
          emailVerified: otp.channel === 'email',
          phoneVerified: otp.channel !== 'email',
          loginMethods: methodsFor(otp.channel),
        });
        await claimProvenIdentifier(ctx, tenant, created.user.id, proven);
        account = created;
        break;
      }
      account = await requireActiveAccount(ctx, existing.user.id);
      break;
    }
    case 'reset-password': {
      account = await requireActiveAccount(ctx, otp.userId);
      break;
    }
    default: {
      if (otp.userId !== caller!.user.id)
        throw new AppError('OTP_INVALID', 'This code belongs to another account.');
      await claimProvenIdentifier(ctx, tenant, caller!.user.id, proven);
      account = await requireActiveAccount(ctx, caller!.user.id);
      // The caller's tokens carry the old email/phone: replace the session with one that says the new.
      await ctx.db.revokeSession(caller!.session.id, 'login', ctx.clock.now());
      const { tokens } = await openSession(ctx, tenant, account.user, caller!.session.anonymousId);
      return { account, tokens };
    }
  }
  return signIn(ctx, tenant, account, client.bearer);
}

/** The identifier the code was sent to: the one this verification proves. */
function provenIdentifier(otp: OtpRecord): Identifier {
  const to = otp.payload['to'] as Identifier;
  return 'email' in to ? { email: to.email } : { phone: to.phone, countryCode: to.countryCode };
}
