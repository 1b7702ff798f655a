import { Algorithm, hash, verify } from '@node-rs/argon2';
import { AppError } from '../errors/codes.js';

/** Hashes and checks passwords. Injected, so tests can count calls without timing anything. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
}

/**
 * argon2id with the OWASP Password Storage Cheat Sheet's first configuration: 19 MiB, two
 * passes, one lane (RFC 9106 §4 recommends argon2id; these are its memory-constrained settings).
 */
export const ARGON2_OPTIONS = {
  algorithm: Algorithm.Argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

export const argon2Hasher: PasswordHasher = {
  hash: (password) => hash(password, ARGON2_OPTIONS),
  verify: async (passwordHash, password) => {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  },
};

/** NIST SP 800-63B §3.1.1.2: at least 8 characters, and allow at least 64. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/** Checks the rules a new password must meet; throws PASSWORD_MISMATCH or WEAK_PASSWORD. */
export function checkNewPassword(password: string, confirmPassword: string): void {
  if (password !== confirmPassword) throw new AppError('PASSWORD_MISMATCH');
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new AppError(
      'WEAK_PASSWORD',
      `The password must be between ${PASSWORD_MIN_LENGTH} and ${PASSWORD_MAX_LENGTH} characters long.`,
    );
  }
  if (password.trim().length === 0)
    throw new AppError('WEAK_PASSWORD', 'The password must not be only spaces.');
}

const dummyHashes = new WeakMap<PasswordHasher, Promise<string>>();

/**
 * A hash of a random password made by `hasher`, computed once. Checking a password against it for
 * an unknown user costs what checking a real one costs, so the answer time does not tell whether
 * the account exists.
 */
export function dummyHash(hasher: PasswordHasher): Promise<string> {
  let pending = dummyHashes.get(hasher);
  if (!pending) {
    pending = hasher.hash(`dummy-${Math.random()}-${Date.now()}`);
    dummyHashes.set(hasher, pending);
  }
  return pending;
}
