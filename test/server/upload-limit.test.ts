import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Messages } from '../../server/errors.js';
import { startRegistry, waitFor, type TestRegistry } from '../support/registry.js';

const LIMIT = 1024 * 1024;
const MIB = 1024 * 1024;

/**
 * Sends a multipart upload over a raw socket whose file part never ends (chunked, or with a
 * Content-Length of 300 MiB), as fast as the socket takes it, until the registry closes the
 * connection. Resolves with what came back.
 */
function endlessUpload(
  registry: TestRegistry,
  apiKey: string,
  framing: 'chunked' | 'content-length',
): Promise<{ answer: string; sent: number }> {
  const url = new URL(registry.url);
  const boundary = 'limitboundary';
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="device"\r\n\r\n5e1b57808711f904f5df4bad\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="firmware"; filename="firmware.bin"\r\n\r\n`;
  const lines = [
    'POST /v1/ota/device HTTP/1.1',
    `Host: ${url.host}`,
    `Authorization: Bearer ${apiKey}`,
    `Content-Type: multipart/form-data; boundary=${boundary}`,
    framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${300 * MIB}`,
  ];
  const chunk = Buffer.alloc(64 * 1024, 0xe9);
  const frame = (bytes: Buffer) =>
    framing === 'chunked'
      ? Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')])
      : bytes;
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let answer = '';
    let sent = 0;
    let open = true;
    socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
    socket.on('error', () => undefined); // a reset once the registry has answered: expected
    socket.on('close', () => {
      open = false;
      resolve({ answer, sent });
    });
    socket.write(lines.join('\r\n') + '\r\n\r\n');
    socket.write(frame(Buffer.from(head)));
    const pump = () => {
      while (open && sent < 300 * MIB) {
        sent += chunk.length;
        if (!socket.write(frame(chunk))) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

describe('an upload over the size limit', () => {
  let registry: TestRegistry;
  let apiKey: string;
  const bytesRead: number[] = [];

  beforeAll(async () => {
    registry = await startRegistry({ 'max-upload-size': '1MiB' });
    apiKey = await registry.addUser();
    registry.server.on('connection', (socket: net.Socket) =>
      socket.on('close', () => bytesRead.push(socket.bytesRead)),
    );
  });
  afterAll(() => registry.close());

  test.each(['chunked', 'content-length'] as const)(
    '(%s) is answered 413 and the connection closed within 1 MiB past the limit; nothing stays in tmp/',
    async (framing) => {
      bytesRead.length = 0;
      const { answer } = await endlessUpload(registry, apiKey, framing);
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      expect(answer).toContain(JSON.stringify({ message: Messages.fileTooLarge(LIMIT) }));
      await waitFor(() => bytesRead.length === 1, 'the connection to close');
      expect(bytesRead[0]).toBeLessThanOrEqual(LIMIT + MIB);
      const tmp = path.join(registry.dataDir, 'tmp');
      await waitFor(() => fs.readdirSync(tmp).length === 0, 'tmp/ to empty');
    },
  );
});
