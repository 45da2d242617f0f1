// @ts-check
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

/**
 * The body of `POST /v1/ota/device` (multipart/form-data), as the Action sends it; with `kind`
 * `group`, of `POST /v1/ota/group` (`device` is then the group's id).
 *
 * @param {{ device: string, token: string, version: string, image: Buffer, kind?: string }} upload
 */
export function uploadBody({ device, token, version, image, kind = 'device' }) {
  const boundary = `----ota-bench-${randomBytes(8).toString('hex')}`;
  const field = (/** @type {string} */ name, /** @type {string} */ value) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const head = Buffer.from(
    field(kind, device) +
      field('token', token) +
      field('version', version) +
      `--${boundary}\r\nContent-Disposition: form-data; name="firmware"; filename="firmware.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    body: Buffer.concat([head, image, tail]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
