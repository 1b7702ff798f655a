import { serverSdk } from '../../../lib/auth';

/**
 * A route handler: ends the customer's session; the server answers a fresh anonymous pair, which
 * the SDK writes as this response's cookies through `cookies()` (the refresh token HttpOnly).
 */
export async function POST(request: Request): Promise<Response> {
  // Only this site's pages may log a shopper out (the SameSite cookie already keeps other sites'
  // forms from carrying the session; this refuses them outright).
  const origin = request.headers.get('origin');
  if (!origin || new URL(origin).host !== request.headers.get('host'))
    return Response.json({ error: 'Cross-origin logout refused.' }, { status: 403 });
  const sdk = await serverSdk();
  try {
    const done = await sdk.auth.logout();
    if (done.error) return Response.json({ error: done.error.message }, { status: 502 });
    return Response.json({ ok: true });
  } finally {
    sdk.dispose();
  }
}
