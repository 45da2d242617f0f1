import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateEspImage } from '../../support/esp-image-generator.js';
import { parseExposition } from '../../support/prometheus.js';
import { cliJson, spawnRegistry, type RegistryProcess } from '../../support/registry-process.js';

/** `serve --workers 2`, the built CLI as an operator runs it (npm test builds it first). */
describe('serve --workers 2', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-registry-cluster-'));
  let server: RegistryProcess;
  let url: string;
  let apiKey: string;
  let device: { _id: string; token: string };

  const cli = <T>(...args: string[]) => cliJson<T>([...args, '--data', dataDir]);

  beforeAll(async () => {
    apiKey = (await cli<{ apiKey: string }>('user', 'add', 'ops@example.com')).apiKey;
    device = await cli<{ _id: string; token: string }>(
      'device',
      'add',
      '--user',
      'ops@example.com',
    );
    server = await spawnRegistry(dataDir, ['--workers', '2', '--no-request-log']);
    expect(server.output()).toMatch(/listening on http:\/\/\S+ .*2 workers/);
    url = server.url;
  });

  afterAll(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function upload(version: string, seed: number): Promise<number> {
    const form = new FormData();
    form.set('device', device._id);
    form.set('token', device.token);
    form.set('version', version);
    form.set('firmware', new Blob([generateEspImage({ seed })]), 'firmware.bin');
    const response = await fetch(`${url}/v1/ota/device`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, connection: 'close' },
      body: form,
    });
    return response.status;
  }

  /** `latest` over 20 fresh connections, which the kernel spreads over both workers. */
  async function latestSeenBy20Connections(): Promise<Set<string>> {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${url}/v1/ota/device/latest/${device._id}`, {
          headers: { connection: 'close' },
        }).then((r) => r.text()),
      ),
    );
    return new Set(answers);
  }

  test('every worker serves an upload as soon as it was answered 201', async () => {
    expect(await upload('1.0.0', 1)).toBe(201);
    expect(await latestSeenBy20Connections()).toEqual(new Set(['{"ver":"1.0.0"}']));
    expect(await upload('1.0.1', 2)).toBe(201);
    expect(await latestSeenBy20Connections()).toEqual(new Set(['{"ver":"1.0.1"}']));
  });

  test('/metrics, whichever worker answers, adds up every worker; ota_devices counted once', async () => {
    const scrape = async () => {
      const res = await fetch(`${url}/metrics`, { headers: { connection: 'close' } });
      expect(res.status).toBe(200);
      return parseExposition(await res.text());
    };
    const before = (await scrape()).value('ota_polls_total');
    // The primary hands connections to the workers in turn: each serves about half of these.
    await latestSeenBy20Connections();
    const scrapes = await Promise.all(Array.from({ length: 6 }, scrape));
    for (const metrics of scrapes) {
      expect(metrics.value('ota_polls_total')).toBe(before + 20);
      // Both uploads of the first test, whichever worker took them.
      expect(metrics.value('ota_uploads_total', { result: 'deployed' })).toBe(2);
      // One device, served 1.0.1, never reported what it runs.
      expect(metrics.value('ota_devices', { update_state: 'unknown' })).toBe(1);
      expect(metrics.value('ota_devices', { update_state: 'up-to-date' })).toBe(0);
      // Node's process metrics of the workers, summed (the primary serves no request).
      expect(metrics.value('process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(metrics.samples.filter((s) => s.name === 'nodejs_version_info')).toHaveLength(1);
    }
  });

  test('SIGTERM stops every worker and exits 0', async () => {
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
