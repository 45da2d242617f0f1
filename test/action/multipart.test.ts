import { expect, test } from '@jest/globals';
import { MultipartBody } from '../../action/multipart.js';
import { fakeImage, tempDir, writeImage } from './fakes.js';

test('streams the file in chunks and declares the exact length', async () => {
  const image = fakeImage(1024 * 1024);
  const file = await writeImage(await tempDir(), 'firmware.bin', image);
  const body = new MultipartBody(
    [
      ['device', '5e1b57808711f904f5df4bad'],
      ['version', '1.2.7'],
    ],
    { field: 'firmware', filename: 'firmware.bin', path: file, size: image.length },
    'BOUNDARY',
  );
  const chunks: Uint8Array[] = [];
  for await (const chunk of body.stream()) chunks.push(chunk);

  // Read from disk piece by piece (64 KiB at a time), never as one buffer of the whole image.
  expect(chunks.length).toBeGreaterThan(10);
  expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(64 * 1024);
  const sent = Buffer.concat(chunks);
  expect(sent.length).toBe(body.length);
  expect(body.contentType).toBe('multipart/form-data; boundary=BOUNDARY');
  const head =
    '--BOUNDARY\r\nContent-Disposition: form-data; name="device"\r\n\r\n5e1b57808711f904f5df4bad\r\n' +
    '--BOUNDARY\r\nContent-Disposition: form-data; name="version"\r\n\r\n1.2.7\r\n' +
    '--BOUNDARY\r\nContent-Disposition: form-data; name="firmware"; filename="firmware.bin"\r\n' +
    'Content-Type: application/octet-stream\r\n\r\n';
  expect(sent.subarray(0, head.length).toString('latin1')).toBe(head);
  expect(sent.subarray(head.length, head.length + image.length).equals(image)).toBe(true);
  expect(sent.subarray(sent.length - 16).toString('latin1')).toBe('\r\n--BOUNDARY--\r\n');
});

test('can be streamed again for a retry', async () => {
  const image = fakeImage(10_000);
  const file = await writeImage(await tempDir(), 'firmware.bin', image);
  const body = new MultipartBody([], {
    field: 'f',
    filename: 'f.bin',
    path: file,
    size: image.length,
  });
  const read = async () => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body.stream()) chunks.push(chunk);
    return Buffer.concat(chunks);
  };
  expect((await read()).equals(await read())).toBe(true);
});
