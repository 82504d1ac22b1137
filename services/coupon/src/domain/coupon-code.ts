import crypto from 'node:crypto';
import { badRequest } from '@coupon-rush/platform';

export const CODE_LENGTH = 16;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
// 252 = 7 × 36: bytes from 252 up are dropped, so each symbol is equally likely (no modulo bias).
const UNBIASED_BELOW = 252;
const FORMAT = /^[A-Z0-9]{16}$/;

/**
 * `count` distinct codes of 16 symbols from [A-Z0-9], drawn from the operating system's CSPRNG:
 * 36^16 ≈ 2^82.7 possibilities, so guessing a valid code is hopeless and collisions are rare
 * (the database's unique index still has the last word).
 */
export function randomCodes(count: number): string[] {
  const codes = new Set<string>();
  let pool = Buffer.alloc(0);
  let at = 0;
  const symbol = (): string => {
    for (;;) {
      if (at === pool.length) {
        pool = crypto.randomBytes(Math.max(256, (count - codes.size) * 18));
        at = 0;
      }
      const byte = pool[at++];
      if (byte < UNBIASED_BELOW) return ALPHABET[byte % 36];
    }
  };
  while (codes.size < count) {
    let code = '';
    for (let i = 0; i < CODE_LENGTH; i++) code += symbol();
    codes.add(code);
  }
  return [...codes];
}

/** A code as a person types it: letters in either case, the canonical form is upper case. */
export function parseCode(v: unknown, name = 'code'): string {
  const code = typeof v === 'string' ? v.toUpperCase() : '';
  if (!FORMAT.test(code)) throw badRequest(`${name} must be ${CODE_LENGTH} characters of A-Z and 0-9`);
  return code;
}
