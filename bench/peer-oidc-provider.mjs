// The peer row of `npm run bench`: node-oidc-provider 9 serving its refresh_token grant in its
// fastest configuration: the built-in in-memory adapter, rotation on, no ID token (the scope is
// `offline_access` only, no `openid`), opaque access tokens, and one confidential client that
// authenticates with client_secret_basic. Started as its own process on 127.0.0.1 like our server.
//
// Its first refresh tokens are minted without a browser: `POST /bench/seed?n=N` (only on this
// benchmark process) creates, in-process, what a completed authorization code exchange leaves in
// the adapter: a Grant for the client with `offline_access`, and a RefreshToken bound to that grant,
// client and account, saved through the provider's own models. Every refresh the benchmark then
// sends goes through the unmodified token endpoint: client authentication, the grant lookup, the
// account lookup, consuming the old refresh token and saving its successor.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import { PEER_CLIENT } from './lib.mjs';

const { id: CLIENT_ID, secret: CLIENT_SECRET } = PEER_CLIENT;

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  scopes: ['offline_access'],
  rotateRefreshToken: true,
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
  features: { devInteractions: { enabled: false } },
});

provider.use(async (ctx, next) => {
  if (ctx.path === '/readyz') {
    ctx.body = { ok: true };
    return;
  }
  if (ctx.path === '/bench/seed' && ctx.method === 'POST') {
    const n = Math.min(Number(ctx.query.n ?? 1), 100_000);
    const client = await provider.Client.find(CLIENT_ID);
    const tokens = [];
    for (let i = 0; i < n; i++) {
      const accountId = `account-${i}`;
      const grant = new provider.Grant({ accountId, clientId: CLIENT_ID });
      grant.addOIDCScope('offline_access');
      const grantId = await grant.save();
      const refreshToken = new provider.RefreshToken({
        accountId,
        client,
        grantId,
        gty: 'authorization_code',
        scope: 'offline_access',
        authTime: Math.floor(Date.now() / 1000),
      });
      tokens.push(await refreshToken.save());
    }
    ctx.body = { tokens };
    return;
  }
  await next();
});

createServer(provider.callback()).listen(port, '127.0.0.1');
