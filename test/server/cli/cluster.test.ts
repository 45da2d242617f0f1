import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateEspImage } from '../../support/esp-image-generator.js';
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

  test('SIGTERM stops every worker and exits 0', async () => {
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
