import { decodeClaims } from '../tokens/jwt.js';

/**
 * The server's clock as seen from here: local `now()` plus a learnt offset. The offset comes from
 * the `iat` of tokens, not from the Date header: `iat` and `exp` are written by the same clock,
 * which is the one that matters, while a Date header may come from a proxy or CDN (and is not
 * readable cross-origin).
 *
 * It is learnt both ways. A token minted for this instance's own request measures the offset
 * (its `iat` is the server's "now" to within a second), whichever way the device clock is off.
 * A pair read from storage brings the offset its writer measured (kept with the pair), and its
 * `iat` is a lower bound of the server's now, which corrects a device clock that fell behind.
 */
export class SkewClock {
  private offsetMs = 0;
  private known = false;
  /** `iat` of the token the offset was measured from: a later measurement wins. */
  private measuredAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number) {}

  serverNow(): number {
    return this.now() + this.offsetMs;
  }

  /** The offset to keep with a pair, when one has been measured. */
  get offset(): number | undefined {
    return this.known ? this.offsetMs : undefined;
  }

  /**
   * A token the server answered to this instance. A grace-window replay carries an older `iat`
   * than a pair already seen; it only bounds the server's now from below.
   */
  learnFromFreshToken(accessToken: string): void {
    const iat = decodeClaims(accessToken)?.iat;
    if (typeof iat !== 'number') return;
    if (iat > this.measuredAt) this.measure(iat, iat * 1000 - this.now());
    else this.atLeast(iat);
  }

  /**
   * A token answered to a request sent when this clock read `sentAtServerMs`. Minted well before
   * that send, it is a replay (the successor of a refresh whose answer was lost, which a bound
   * session replays for as long as it is unused): it only bounds the server's now from below.
   */
  learnFromAnswer(accessToken: string, sentAtServerMs: number): void {
    const iat = decodeClaims(accessToken)?.iat;
    if (typeof iat !== 'number') return;
    if (this.known && iat * 1000 < sentAtServerMs - 5000) this.atLeast(iat);
    else this.learnFromFreshToken(accessToken);
  }

  /** A pair read from storage or handed over by a sibling, with the offset its writer kept. */
  learnFromStoredToken(accessToken: string, keptOffsetMs: number | undefined): void {
    const iat = decodeClaims(accessToken)?.iat;
    if (typeof iat !== 'number') return;
    if (keptOffsetMs !== undefined && iat > this.measuredAt) this.measure(iat, keptOffsetMs);
    this.atLeast(iat);
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

  private measure(iat: number, offsetMs: number): void {
    this.offsetMs = offsetMs;
    this.known = true;
    this.measuredAt = iat;
  }

  /** The server minted a token at `iat`: its clock reads at least that now. */
  private atLeast(iat: number): void {
    if (iat * 1000 > this.serverNow()) {
      this.offsetMs = iat * 1000 - this.now();
      this.known = true;
    }
  }
}
