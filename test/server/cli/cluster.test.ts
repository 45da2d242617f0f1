import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateEspImage } from '../../support/esp-image-generator.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'build/server/cli/main.js');

/** `serve --workers 2`, the built CLI as an operator runs it (npm test builds it first). */
describe('serve --workers 2', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-registry-cluster-'));
  let server: ChildProcess;
  let url: string;
  let apiKey: string;
  let device: { _id: string; token: string };

  const cli = (...args: string[]) =>
    JSON.parse(
      execFileSync(process.execPath, [CLI, ...args, '--data', dataDir, '--json'], {
        encoding: 'utf8',
      }),
    );

  beforeAll(async () => {
    apiKey = cli('user', 'add', 'ops@example.com').apiKey;
    device = cli('device', 'add', '--user', 'ops@example.com');
    server = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--data',
        dataDir,
        '--workers',
        '2',
        '--no-request-log',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    url = await new Promise<string>((resolve, reject) => {
      let output = '';
      server.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+) .*2 workers/.exec(output);
        if (match) resolve(match[1]);
      });
      server.once('exit', (code) => reject(new Error(`serve exited (${code}): ${output}`)));
    });
  });

  afterAll(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
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
    const exited = new Promise<number | null>((resolve) =>
      server.once('exit', (code) => resolve(code)),
    );
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
