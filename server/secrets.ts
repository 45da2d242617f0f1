import { createHash, randomBytes, scrypt, timingSafeEqual, type BinaryLike } from 'node:crypto';

/** SHA-256 hex of a bearer secret or device token: what the database keeps instead of it. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** API keys and session tokens: 32 random bytes, with a prefix that says what they are. */
export function newBearerSecret(kind: 'api-key' | 'session'): string {
  return (kind === 'api-key' ? 'ota_key_' : 'ota_ses_') + randomBytes(32).toString('base64url');
}

const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 };

function scryptAsync(password: BinaryLike, salt: Buffer, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$<salt>$<key>`, both base64url; the parameters are fixed above. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keyLength);
  return `scrypt$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * A stored hash no password matches, for logins with no real hash to check (unknown email, a
 * user without a password): they run scrypt all the same, so an answer's time does not tell
 * whether the email exists.
 */
export const NO_PASSWORD_HASH = `scrypt$${Buffer.alloc(16).toString('base64url')}$${Buffer.alloc(SCRYPT.keyLength).toString('base64url')}`;

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length);
  return timingSafeEqual(actual, expected);
}
