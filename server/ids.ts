import { randomBytes, randomInt } from 'node:crypto';

/**
 * A new identifier in the form of IoTaaP's (a MongoDB ObjectId): 12 random bytes from the
 * cryptographic source, as hex. Not a clock and a counter like a real ObjectId: `latest` answers
 * anyone who names an existing id, so one owner's id must say nothing about the next ones.
 * Lists therefore sort by their creation time column, never by id.
 */
export function newObjectId(): string {
  return randomBytes(12).toString('hex');
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random token of letters and digits (device and group tokens: devices send it in a URL). */
export function newAlphanumericToken(length: number): string {
  let token = '';
  for (let i = 0; i < length; i++) token += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return token;
}

export function nowIso(now: number = Date.now()): string {
  return new Date(now).toISOString();
}
