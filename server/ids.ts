import { randomBytes, randomInt } from 'node:crypto';

const processUnique = randomBytes(5).toString('hex');
let counter = randomInt(0xffffff);

/**
 * A new ObjectId-shaped identifier: 4 bytes of seconds, 5 random bytes per process and a
 * 3-byte counter, so ids sort roughly by creation time like IoTaaP's.
 */
export function newObjectId(now: number = Date.now()): string {
  counter = (counter + 1) % 0x1000000;
  const seconds = Math.floor(now / 1000)
    .toString(16)
    .padStart(8, '0');
  return seconds + processUnique + counter.toString(16).padStart(6, '0');
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
