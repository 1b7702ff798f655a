// The DPoP-bound refresh row of `npm run bench`: each connection holds its own P-256 key, opens a
// session bound to it (POST /auth/anonymous with a proof), then refreshes it with a fresh proof
// (new jti, current iat) made by the client for every request, as the SDK does. The proof costs
// the client one ES256 signature and the server one ES256 verification, one thumbprint and one
// jti insert per refresh.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { API_KEY, httpPost, refreshTokenOf } from './lib.mjs';

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

function dpopKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = publicKey.export({ format: 'jwk' });
  const header = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x, y } });
  return {
    jkt: createHash('sha256')
      .update(JSON.stringify({ crv: 'P-256', kty: 'EC', x, y }))
      .digest('base64url'),
    proof(htm, htu) {
      const payload = b64({
        jti: randomBytes(16).toString('base64url'),
        htm,
        htu,
        iat: Math.floor(Date.now() / 1000),
      });
      const input = `${header}.${payload}`;
      const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return `${input}.${signature.toString('base64url')}`;
    },
  };
}

/** A chain for lib.mjs's drive(): refreshes of one DPoP-bound session per connection. */
export function dpopRefreshChain(store = 'demo') {
  const path = `/api/v1/${store}/storefront/auth/refresh-token`;
  // httpPost sends `Host: 127.0.0.1`: the URL the server sees, and so the proof's htu.
  const htu = `http://127.0.0.1${path}`;
  return {
    init: async (_i, url) => {
      const key = dpopKey();
      const anonymous = `${url}/api/v1/${store}/storefront/auth/anonymous`;
      const res = await fetch(anonymous, {
        method: 'POST',
        headers: { 'x-api-key': API_KEY, dpop: key.proof('POST', anonymous) },
      });
      if (res.status !== 200) throw new Error(`bound anonymous session: ${res.status}`);
      return { key, token: (await res.json()).content.refresh_token };
    },
    request: (s) =>
      httpPost(
        path,
        'application/json',
        `{"refresh_token":"${s.token}"}`,
        `DPoP: ${s.key.proof('POST', htu)}\r\n`,
      ),
    next: (s, status, body) => (status === 200 ? { key: s.key, token: refreshTokenOf(body) } : s),
  };
}
