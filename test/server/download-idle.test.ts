import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import net from 'node:net';
import { generateEspImage } from '../support/esp-image-generator.js';
import { deployTo, downloadPath } from '../support/fleet.js';
import { startRegistry, waitFor, type TestRegistry } from '../support/registry.js';

const SIZE = 12 * 1024 * 1024; // more than the kernel's socket buffers hold for a client reading nothing

/**
 * A download over a raw socket whose reader reads nothing for `stallMs`, then takes `everyMs`
 * pauses between reads of about `bytesPerRead`. Resolves with the bytes received and whether
 * the registry closed the connection before the whole body was there.
 */
function download(
  registry: TestRegistry,
  path: string,
  { stallMs = 0, bytesPerRead = Infinity, everyMs = 10, giveUpMs = 40_000 },
): Promise<{ received: number; cut: boolean }> {
  const url = new URL(registry.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let received = 0;
    let done = false;
    const finish = (cut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(stall);
      clearInterval(reader);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ received, cut });
    };
    socket.on('error', () => undefined);
    socket.on('close', () => finish(received < SIZE));
    let thisTurn = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      thisTurn += chunk.length;
      // The header's bytes count too; near enough to know the body arrived.
      if (received >= SIZE) finish(false);
      else if (thisTurn >= bytesPerRead) socket.pause();
    });
    socket.pause();
    socket.write(`GET ${path} HTTP/1.0\r\nHost: ${url.host}\r\n\r\n`);
    let reader: NodeJS.Timeout | undefined;
    const stall = setTimeout(() => {
      reader = setInterval(() => {
        thisTurn = 0;
        socket.resume();
      }, everyMs);
    }, stallMs);
    const giveUp = setTimeout(() => finish(false), giveUpMs);
  });
}

describe('--download-idle-timeout', () => {
  let registry: TestRegistry;
  let device: { id: string; token: string };
  const errors: string[] = [];

  beforeAll(async () => {
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      errors.push(args.join(' '));
    });
    registry = await startRegistry({ 'download-idle-timeout': '2', 'max-upload-size': '16MiB' });
    const apiKey = await registry.addUser();
    device = await registry.addDevice(apiKey);
    const image = generateEspImage({ seed: 91, size: SIZE });
    expect((await deployTo(registry, apiKey, 'device', device, '1.0.0', image)).status).toBe(201);
  });
  afterAll(async () => {
    await registry.close();
    jest.restoreAllMocks();
  });

  test('a download that makes no progress that long is closed, and logged without its token', async () => {
    // It reads nothing for four times the timeout (Node's inactivity timer looks at the write
    // queue on each tick, so the cut comes between one and two timeouts), then all it can.
    const result = await download(registry, downloadPath('device', device), { stallMs: 8_000 });
    expect(result.cut).toBe(true);
    expect(result.received).toBeLessThan(SIZE);
    await waitFor(() => errors.some((line) => line.includes('no progress')), 'the log line');
    const line = errors.find((text) => text.includes('no progress'))!;
    expect(line).toContain(`/v1/ota/device/download/${device.id}[redacted]`);
    expect(line).not.toContain(device.token);
  });

  test('a slow download that keeps moving is never cut, though it takes longer than the timeout', async () => {
    const started = Date.now();
    // 512 KiB every 250 ms: about 6 s for the image, three times the idle timeout.
    const result = await download(registry, downloadPath('device', device), {
      bytesPerRead: 512 * 1024,
      everyMs: 250,
    });
    expect(result).toEqual({ received: expect.any(Number), cut: false });
    expect(result.received).toBeGreaterThanOrEqual(SIZE);
    expect(Date.now() - started).toBeGreaterThan(2_000);
  });
});
