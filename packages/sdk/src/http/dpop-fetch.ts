import { boundTo, type DpopSigner } from '../dpop/signer.js';

/**
 * A fetch that adds a DPoP proof (RFC 9449) to every request the SDK makes. A request carrying an
 * access token gets `ath` in its proof; when the token is bound (`cnf.jkt`), it is sent as
 * `Authorization: DPoP <token>` (RFC 9449 §7.1), since the server refuses a bound token under
 * Bearer. The answer's `DPoP-Nonce` is kept for the next proof. One retry, only when the refusal
 * says a fresh proof would pass: `DPOP_NONCE_REQUIRED` with a new nonce (§8), or a proof refused
 * while this device's clock, by the server's Date header, is off by more than the `iat` leeway.
 * The server changes nothing when it refuses a proof, so the retry is safe even for a refresh.
 */
export function dpopFetch(inner: typeof fetch, signer: DpopSigner): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    for (let attempt = 1; ; attempt++) {
      const headers = new Headers(init?.headers);
      const token = /^(?:Bearer|DPoP) +(\S+)$/i.exec(headers.get('authorization') ?? '')?.[1];
      const signed = await signer.proof(method, url, token);
      headers.set('dpop', signed.proof);
      if (token !== undefined && boundTo(token) !== undefined) headers.set('authorization', `DPoP ${token}`);
      const response = await inner(input, { ...init, headers });
      const nonce = signer.learnNonce(response);
      if (attempt > 1 || (response.status !== 400 && response.status !== 401)) return response;
      const code = await errorCode(response);
      const retry =
        (code === 'DPOP_NONCE_REQUIRED' && nonce !== undefined && nonce !== signed.nonce) ||
        (code === 'DPOP_PROOF_INVALID' && signer.learnDate(response, signed.iatMs));
      if (!retry) return response;
      await response.body?.cancel().catch(() => undefined);
    }
  };
}

/** The envelope's `code` of an error answer, read from a copy so the caller still gets the body. */
async function errorCode(response: Response): Promise<string | undefined> {
  try {
    const body = JSON.parse(await response.clone().text()) as { code?: unknown };
    return typeof body?.code === 'string' ? body.code : undefined;
  } catch {
    return undefined;
  }
}
