import { decodeClaims } from '@storefront-auth/sdk';
import { nextCookieStorage } from '@storefront-auth/sdk/next';
import { cookies } from 'next/headers';

export const dynamic = 'force-dynamic';

/** A server component: reads the pair the proxy left, never refreshes itself. */
export default async function Home() {
  const tokens = await nextCookieStorage(await cookies()).getTokens();
  const claims = decodeClaims(tokens?.access_token);
  return (
    <main>
      <h1>Storefront</h1>
      <p id="shopper">
        {claims ? `${claims.is_anonymous ? 'anonymous' : 'customer'} ${String(claims.ulid)}` : 'no session'}
      </p>
    </main>
  );
}
