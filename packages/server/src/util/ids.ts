import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID (time-ordered, 26 Crockford base32 characters): the Commerce Engine `ulid` claim format. */
export function ulid(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[bytes[i]! % 32];
  return time + rand;
}

/**
 * An unguessable identifier, base64url, that never starts with `-` or `_`: ids are typed into the
 * CLI (`sessions revoke <id>`), where a leading dash would read as an option.
 */
export function randomId(bytes = 16): string {
  const id = randomBytes(bytes).toString('base64url');
  return id[0] === '-' || id[0] === '_' ? `x${id.slice(1)}` : id;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
