import { AppError } from '../errors/codes.js';

/** The Commerce Engine API's default when a phone comes without a country code. */
export const DEFAULT_COUNTRY_CODE = '+91';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@.]{1,63}$/;
const PHONE = /^[0-9]{4,15}$/;
const COUNTRY_CODE = /^\+[0-9]{1,4}$/;

/** Emails compare case-insensitively, without surrounding spaces. */
export function normalizeEmail(email: string): string {
  const value = email.trim().toLowerCase();
  if (value.length > 254 || !EMAIL.test(value)) {
    throw new AppError('BAD_REQUEST', 'Invalid request: email is not a valid email address.', {
      errors: { email: 'is not a valid email address' },
    });
  }
  return value;
}

export interface Phone {
  phone: string;
  countryCode: string;
}

/** A phone is its national digits plus a country code (`+91` when none is given). */
export function normalizePhone(phone: string, countryCode: string | null | undefined): Phone {
  const digits = phone.replace(/[\s-]/g, '');
  const code = (countryCode ?? DEFAULT_COUNTRY_CODE).trim() || DEFAULT_COUNTRY_CODE;
  if (!PHONE.test(digits)) {
    throw new AppError('BAD_REQUEST', 'Invalid request: phone must be 4 to 15 digits.', {
      errors: { phone: 'must be 4 to 15 digits' },
    });
  }
  if (!COUNTRY_CODE.test(code)) {
    throw new AppError('BAD_REQUEST', 'Invalid request: country_code must look like +91.', {
      errors: { country_code: 'must look like +91' },
    });
  }
  return { phone: digits, countryCode: code };
}

export function phoneIdentifier(p: Phone): string {
  return `${p.countryCode}${p.phone}`;
}
