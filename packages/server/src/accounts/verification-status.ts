import type { Tenant } from '../tenants/directory.js';
import { authenticateCustomer } from './authenticate.js';
import type { CustomerContext } from './context.js';

/**
 * POST /auth/verified-email-phone: which of the given emails and phones are verified. Only the
 * caller's own are ever reported, so this cannot be used to find other customers' addresses.
 */
export async function checkVerificationStatus(
  ctx: CustomerContext,
  tenant: Tenant,
  bearer: string | undefined,
  input: { email?: string[]; phone?: string[] },
): Promise<{ verified_email: string[]; verified_phone: string[] }> {
  const { user } = await authenticateCustomer(ctx, tenant, bearer);
  const verified_email = (input.email ?? []).filter(
    (e) => user.isEmailVerified && user.email !== null && e.trim().toLowerCase() === user.email,
  );
  const verified_phone = (input.phone ?? []).filter((p) => {
    if (!user.isPhoneVerified || user.phone === null) return false;
    const digits = p.replace(/[\s-]/g, '');
    return digits === user.phone || digits === `${user.countryCode}${user.phone}`;
  });
  return { verified_email, verified_phone };
}
