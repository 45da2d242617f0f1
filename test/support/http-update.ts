import { createHash } from 'node:crypto';
import { md5, sha256 } from './hashes.js';
import { rawHttp10 } from './http10.js';

/** What the updater says about the device it runs on. */
export interface UpdaterIdentity {
  /** The station MAC (x-ESP32-STA-MAC). */
  mac: string;
  freeSpace: number;
  /** The `currentVersion` argument of httpUpdate.update(), sent as x-ESP32-version when given. */
  version?: string;
}

export type HttpUpdateResult =
  { ok: true; image: Buffer } | { ok: false; status: number; reason: string };

/**
 * A stand-in of arduino-esp32's HTTPUpdate::handleUpdate for a sketch (DEVICES.md): a GET over
 * HTTP/1.0 with its x-ESP32-* headers, the running sketch's MD5 among them; 304 is "no
 * updates"; a 200 must carry Content-Length that fits the free space, a body starting with
 * 0xE9, and the MD5 of x-MD5 when the server sends one. Anything else fails the update.
 */
export async function httpUpdate(
  base: string,
  path: string,
  running: Buffer,
  identity: UpdaterIdentity,
): Promise<HttpUpdateResult> {
  const headers: Record<string, string> = {
    'User-Agent': 'ESP32-http-Update',
    'x-ESP32-STA-MAC': identity.mac,
    'x-ESP32-AP-MAC': identity.mac,
    'x-ESP32-BASE-MAC': identity.mac,
    'x-ESP32-free-space': String(identity.freeSpace),
    'x-ESP32-sketch-size': String(running.length),
    'x-ESP32-sketch-md5': md5(running),
    'x-ESP32-sketch-sha256': sha256(running).toUpperCase(),
    'x-ESP32-chip-size': '4194304',
    'x-ESP32-sdk-version': 'v4.4.7-dirty',
    'x-ESP32-mode': 'sketch',
  };
  if (identity.version !== undefined) headers['x-ESP32-version'] = identity.version;
  let res;
  try {
    res = await rawHttp10(base, path, headers);
  } catch (err) {
    return { ok: false, status: -1, reason: `connection failed: ${(err as Error).message}` };
  }
  if (res.status === 304) return { ok: false, status: 304, reason: 'no updates' };
  if (res.status !== 200) return { ok: false, status: res.status, reason: 'HTTP error' };
  const length = Number(res.headers['content-length'] ?? '0');
  if (!(length > 0)) return { ok: false, status: 200, reason: 'server did not report size' };
  if (length > identity.freeSpace) return { ok: false, status: 200, reason: 'too less space' };
  if (res.body[0] !== 0xe9)
    return { ok: false, status: 200, reason: 'magic header does not start with 0xE9' };
  if (res.body.length !== length) return { ok: false, status: 200, reason: 'written size differs' };
  const expected = res.headers['x-md5'];
  if (expected !== undefined) {
    if (expected.length !== 32) return { ok: false, status: 200, reason: 'MD5 parameter invalid' };
    const actual = md5(res.body);
    if (actual !== expected.toLowerCase())
      return { ok: false, status: 200, reason: 'MD5 check failed' };
  }
  return { ok: true, image: res.body };
}

/** The version compiled into an image: its esp_app_desc_t.version (0x30, 32 bytes, NUL-padded). */
export function compiledVersion(image: Buffer): string {
  const field = image.subarray(0x30, 0x50);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('latin1');
}

/** A station MAC derived from a name: stable, distinct, Espressif's 24: prefix. */
export function macFor(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 5);
  return ['24', ...[...bytes].map((b) => b.toString(16).padStart(2, '0'))].join(':').toUpperCase();
}
