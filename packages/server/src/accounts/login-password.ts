import { AppError } from '../errors/codes.js';
import type { UserAccount } from '../model.js';
import { enforceAddressLimit, enforceLimit } from '../ratelimit/enforce.js';
import type { Tenant } from '../tenants/directory.js';
import type { TokenPair } from '../tokens/issue.js';
import type { ClientInfo, CustomerContext } from './context.js';
import { dummyHash } from './passwords.js';
import { findAccount, type Identifier } from './records.js';
import { signIn } from './sign-in.js';

/**
 * POST /auth/login/password. Every refusal is the same INVALID_CREDENTIALS after exactly one
 * password check: an unknown account, one without a password and a deactivated one are checked
 * against a dummy hash, so neither the answer nor its timing tells which accounts exist
 * (OWASP ASVS V2.2, account enumeration).
 */
export async function loginWithPassword(
  ctx: CustomerContext,
  tenant: Tenant,
  id: Identifier,
  password: string,
  client: ClientInfo,
): Promise<{ account: UserAccount; tokens: TokenPair }> {
  const key = 'email' in id ? id.email : `${id.countryCode}${id.phone}`;
  // Both before the hash is verified, so refused attempts cost no argon2id; the address first, so
  // a sprayer past its own limit no longer counts against the accounts it names.
  await enforceAddressLimit(
    ctx.rateLimiter,
    tenant.limits,
    'loginPerAddress',
    tenant.record.id,
    client.caller,
    'Too many login attempts from this address; retry later.',
  );
  await enforceLimit(
    ctx.rateLimiter,
    tenant.limits,
    'loginPerIdentifier',
    `${tenant.record.id}:${key}`,
    'Too many login attempts for this account; retry later.',
  );
  const account = await findAccount(ctx, tenant, id);
  const usable = account !== null && account.status === 'active' && account.passwordHash !== null;
  const hash = usable ? account.passwordHash! : await dummyHash(ctx.hasher);
  const matches = await ctx.hasher.verify(hash, password);
  if (!usable || !matches) throw new AppError('INVALID_CREDENTIALS');
  return signIn(ctx, tenant, account, client.bearer);
}
