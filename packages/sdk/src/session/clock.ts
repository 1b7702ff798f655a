import { decodeClaims } from '../tokens/jwt.js';

/**
 * The server's clock as seen from here: local `now()` plus a learnt offset. The offset comes from
 * the `iat` of tokens, not from the Date header: `iat` and `exp` are written by the same clock,
 * which is the one that matters, while a Date header may come from a proxy or CDN (and is not
 * readable cross-origin). A freshly minted token's `iat` is the server's "now" to within a
 * second; a token replayed inside the grace window is older, which only makes the SDK refresh a
 * little later than ideal, still covered by the 401 retry.
 */
export class SkewClock {
  private offsetMs = 0;

  constructor(private readonly now: () => number) {}

  serverNow(): number {
    return this.now() + this.offsetMs;
  }

  /** A token the server minted for this very response. */
  learnFromFreshToken(accessToken: string): void {
    const iat = decodeClaims(accessToken)?.iat;
    if (typeof iat === 'number') this.offsetMs = iat * 1000 - this.now();
  }

  /**
   * A token read from storage: its `iat` is a lower bound of the server's now. Only move the
   * offset forward (a local clock running behind), never back.
   */
  learnFromStoredToken(accessToken: string): void {
    const iat = decodeClaims(accessToken)?.iat;
    if (typeof iat === 'number' && iat * 1000 > this.serverNow()) this.offsetMs = iat * 1000 - this.now();
  }

  secondsLeft(accessToken: string): number | null {
    const exp = decodeClaims(accessToken)?.exp;
    return typeof exp === 'number' ? exp - this.serverNow() / 1000 : null;
  }

  /** Refresh when less than `leewaySeconds` remain, capped at half the token's lifetime. */
  expiresSoon(accessToken: string, leewaySeconds: number): boolean {
    const claims = decodeClaims(accessToken);
    if (typeof claims?.exp !== 'number') return false;
    const lifetime = typeof claims.iat === 'number' ? claims.exp - claims.iat : leewaySeconds * 2;
    const leeway = Math.min(leewaySeconds, lifetime / 2);
    return claims.exp * 1000 - this.serverNow() <= leeway * 1000;
  }
}
