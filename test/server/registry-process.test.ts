import { afterAll, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Messages } from '../../server/errors.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import {
  cliJson,
  cliUserWithDevice,
  killAllRegistries,
  type RegistryProcess,
  runCli,
  spawnRegistry,
} from '../support/registry-process.js';

afterAll(killAllRegistries);
import { REPO_ROOT, download, request, tempDataDir, upload, waitFor } from '../support/registry.js';

interface Seeded {
  apiKey: string;
  id: string;
  token: string;
}

/** A user and a device through the operator CLI, with version 1.0.0 deployed over HTTP. */
async function seed(dataDir: string, registry: RegistryProcess, firmware: Buffer): Promise<Seeded> {
  const { apiKey, device } = await cliUserWithDevice(dataDir, 'ops@example.com', {
    deviceArgs: ['--name', 'crash'],
  });
  const res = await upload(
    `${registry.url}/v1/ota/device`,
    apiKey,
    { device: device._id, token: device.token, version: '1.0.0' },
    [{ bytes: firmware }],
  );
  expect(res.status).toBe(201);
  return { apiKey, id: device._id, token: device.token };
}

/**
 * Sends a multipart upload by hand and stops after `sendBytes` bytes of the file, leaving the
 * request open: the server has part of the file in tmp/ when it is killed.
 */
function startPartialUpload(
  url: string,
  seeded: Seeded,
  firmware: Buffer,
  sendBytes: number,
): http.ClientRequest {
  const boundary = 'crashtestboundary';
  const head =
    ['device', 'token', 'version']
      .map(
        (name) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${name === 'device' ? seeded.id : name === 'token' ? seeded.token : '2.0.0'}\r\n`,
      )
      .join('') +
    `--${boundary}\r\nContent-Disposition: form-data; name="firmware"; filename="firmware.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const tail = `\r\n--${boundary}--\r\n`;
  const target = new URL('/v1/ota/device', url);
  const req = http.request(target, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${seeded.apiKey}`,
      'Content-Type': `multipart/form-data; boundary=${boundary}`,
      'Content-Length': String(head.length + firmware.length + tail.length),
    },
  });
  req.on('error', () => undefined); // the server dies mid-request: expected
  req.write(head);
  req.write(firmware.subarray(0, sendBytes));
  return req;
}

describe('the registry process', () => {
  test.each([0.1, 0.5, 0.999])(
    'killed with SIGKILL %p of the way through an upload, restarted: the old firmware is served intact, no temporary file is left',
    async (fraction) => {
      const dataDir = tempDataDir();
      const v1 = generateEspImage({ seed: 1, size: 512 * 1024 });
      const v2 = generateEspImage({ seed: 2, size: 2 * 1024 * 1024 });
      const first = await spawnRegistry(dataDir);
      const seeded = await seed(dataDir, first, v1);

      const tmp = path.join(dataDir, 'tmp');
      const req = startPartialUpload(first.url, seeded, v2, Math.floor(v2.length * fraction));
      await waitFor(
        () => fs.readdirSync(tmp).some((name) => fs.statSync(path.join(tmp, name)).size > 0),
        'the upload to reach tmp/',
      );
      first.child.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      req.destroy();
      expect(fs.readdirSync(tmp).length).toBeGreaterThan(0);

      const second = await spawnRegistry(dataDir);
      try {
        expect(fs.readdirSync(tmp)).toEqual([]);
        expect(second.output()).toContain('Removed 1 unfinished upload');
        expect((await request(`${second.url}/v1/ota/device/latest/${seeded.id}`)).body).toEqual({
          ver: '1.0.0',
        });
        const got = await download(
          `${second.url}/v1/ota/device/download/${seeded.id}${seeded.token}`,
        );
        expect(got.bytes.equals(v1)).toBe(true);
        // And the registry still takes the upload that was cut short.
        const retry = await upload(
          `${second.url}/v1/ota/device`,
          seeded.apiKey,
          { device: seeded.id, token: seeded.token, version: '2.0.0' },
          [{ bytes: v2 }],
        );
        expect(retry.status).toBe(201);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    },
  );

  test('users, API keys, devices and firmware survive a restart; SIGTERM exits 0', async () => {
    const dataDir = tempDataDir();
    const v1 = generateEspImage({ seed: 5 });
    const first = await spawnRegistry(dataDir);
    expect(first.output()).toContain(`npx ota-registry user add you@example.com --data ${dataDir}`);
    const seeded = await seed(dataDir, first, v1);
    const password = 'a long enough password';
    await cliJson(
      ['user', 'add', 'second@example.com', '--password-stdin', '--data', dataDir],
      `${password}\n`,
    );
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });

    const second = await spawnRegistry(dataDir);
    try {
      expect(second.output()).not.toContain('No users yet');
      const devices = await request(`${second.url}/v1/devices`, { apiKey: seeded.apiKey });
      expect(devices.status).toBe(200);
      expect(
        (devices.body as { devices: Array<{ _id: string }> }).devices.map((d) => d._id),
      ).toEqual([seeded.id]);
      const login = await request(`${second.url}/v1/auth/login`, {
        method: 'POST',
        json: { email: 'second@example.com', password },
      });
      expect(login.status).toBe(200);
      expect((await request(`${second.url}/v1/ota/device/latest/${seeded.id}`)).body).toEqual({
        ver: '1.0.0',
      });
      expect(
        (
          await download(`${second.url}/v1/ota/device/download/${seeded.id}${seeded.token}`)
        ).bytes.equals(v1),
      ).toBe(true);
    } finally {
      second.child.kill('SIGINT');
      expect((await second.exited).code).toBe(0);
    }
  });

  test('SIGTERM lets an in-flight download finish before the process exits', async () => {
    // Bigger than the kernel's socket buffers (tcp_wmem/tcp_rmem), so while the client reads
    // nothing most of the response is still in the server's own buffer when SIGTERM arrives.
    const dataDir = tempDataDir();
    const big = generateEspImage({ seed: 9, size: 14 * 1024 * 1024 });
    const registry = await spawnRegistry(dataDir, ['--max-upload-size', '16MiB']);
    const seeded = await seed(dataDir, registry, big);
    // A raw socket, as the device's updater speaks: node:http may be patched by another test
    // file's nock in the same Jest worker, and its interceptor then fails on this request.
    const url = new URL(registry.url);
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname);
      const chunks: Buffer[] = [];
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.once('data', () => {
        socket.pause();
        registry.child.kill('SIGTERM');
        // Several ticks of the shutdown's idle-connection sweep (every 100 ms) pass meanwhile.
        setTimeout(() => socket.resume(), 1000);
      });
      socket.write(
        `GET /v1/ota/device/download/${seeded.id}${seeded.token} HTTP/1.0\r\nHost: ${url.host}\r\n\r\n`,
      );
    });
    const split = answer.indexOf('\r\n\r\n');
    expect(answer.subarray(0, split).toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
    const body = answer.subarray(split + 4);
    expect(body.equals(big)).toBe(true);
    expect((await registry.exited).code).toBe(0);
  });

  test('one log line per request, with the device token redacted', async () => {
    const dataDir = tempDataDir();
    const registry = await spawnRegistry(dataDir);
    try {
      const seeded = await seed(dataDir, registry, generateEspImage({ seed: 6 }));
      await download(`${registry.url}/v1/ota/device/download/${seeded.id}${seeded.token}`);
      await waitFor(() => registry.output().includes('/download/'), 'the log line');
      const lines = registry.output().split('\n');
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^\\S+Z GET /v1/ota/device/download/${seeded.id}\\[redacted\\] 200 \\d+\\.\\dms$`,
          ),
        ),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(/^\S+Z POST \/v1\/ota\/device 201 \d+\.\dms$/),
      );
      expect(registry.output()).not.toContain(seeded.token);
      expect(registry.output()).not.toContain(seeded.apiKey);
    } finally {
      registry.child.kill('SIGTERM');
      await registry.exited;
    }
  });

  test('a bad setting stops the start with a message naming it, exit 2', async () => {
    const result = await runCli(['serve', '--data', tempDataDir()], undefined, {
      OTA_PORT: 'eighty',
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'ota-registry: OTA_PORT is "eighty": expected a port number from 0 to 65535',
    );
  });
});

describe('the operator CLI', () => {
  test('user add, key create/revoke, device add (also imported), device list, all with --json', async () => {
    const dataDir = tempDataDir();
    const user = await cliJson<{ id: string; email: string; role: string; apiKey: string }>([
      'user',
      'add',
      'cli@example.com',
      '--role',
      'admin',
      '--data',
      dataDir,
    ]);
    expect(user).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      email: 'cli@example.com',
      role: 'admin',
      apiKey: expect.any(String),
    });
    const { apiKey } = await cliJson<{ apiKey: string }>([
      'key',
      'create',
      '--user',
      'cli@example.com',
      '--data',
      dataDir,
    ]);
    expect(apiKey).not.toBe(user.apiKey);
    expect(await cliJson(['key', 'revoke', apiKey, '--data', dataDir])).toEqual({ revoked: true });
    expect((await runCli(['key', 'revoke', apiKey, '--data', dataDir])).code).toBe(1);

    const imported = await cliJson<Record<string, string>>([
      'device',
      'add',
      '--user',
      'cli@example.com',
      '--name',
      'from IoTaaP',
      '--id',
      '5e1b57808711f904f5df4bad',
      '--token',
      'AbCdEf123456',
      '--data',
      dataDir,
    ]);
    expect(imported).toEqual({
      _id: '5e1b57808711f904f5df4bad',
      name: 'from IoTaaP',
      owner: user.id,
      token: 'AbCdEf123456',
    });
    const list = await cliJson<{ devices: Array<{ _id: string; version: string | null }> }>([
      'device',
      'list',
      '--user',
      'cli@example.com',
      '--data',
      dataDir,
    ]);
    expect(list.devices).toEqual([
      expect.objectContaining({ _id: '5e1b57808711f904f5df4bad', version: null }),
    ]);

    // The imported device's own token works on the download URL once it has firmware.
    const registry = await spawnRegistry(dataDir);
    try {
      const image = generateEspImage({ seed: 3 });
      const res = await upload(
        `${registry.url}/v1/ota/device`,
        user.apiKey,
        { device: imported._id, token: 'AbCdEf123456', version: '0.9.0' },
        [{ bytes: image }],
      );
      expect(res.status).toBe(201);
      expect(
        (
          await download(
            `${registry.url}/v1/ota/device/download/5e1b57808711f904f5df4badAbCdEf123456`,
          )
        ).bytes.equals(image),
      ).toBe(true);
      // Commands work while the server runs on the same data.
      const again = await cliJson<{ devices: Array<{ version: string | null }> }>([
        'device',
        'list',
        '--user',
        'cli@example.com',
        '--data',
        dataDir,
      ]);
      expect(again.devices[0].version).toBe('0.9.0');
    } finally {
      registry.child.kill('SIGTERM');
      await registry.exited;
    }
  });

  test.each([
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['user', 'add'], 'user add needs an email address'],
    [['user', 'add', 'a@b.co', '--role', 'root'], '--role must be admin or user'],
    [['device', 'add'], '--user is required'],
    [
      ['device', 'add', '--user', 'a@b.co', '--id', '5e1b57808711f904f5df4bad'],
      '--id and --token go together',
    ],
    [['key', 'create', '--bogus'], "Unknown option '--bogus'"],
    [['serve', '--port', '99999'], '--port is "99999"'],
    [['serve', '--mqtt', 'http://u:p@broker'], '--mqtt starts with http://'],
    [['serve', '--mqtt-status-topic', '/{user}/status'], '--mqtt-status-topic is'],
    [['user', 'set', 'a@b.co'], '--mqtt-user is required'],
    [['user', 'frob'], 'unknown command "user frob"'],
  ])('%p is a one-line error naming the argument, exit 2', async (args, message) => {
    const result = await runCli([...args, '--data', tempDataDir()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('the bins run on their own, as npx and a global install start them', () => {
    const bins = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'))
      .bin as Record<string, string>;
    for (const file of Object.values(bins)) {
      const result = spawnSync(path.join(REPO_ROOT, file), ['--help'], {
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      expect({ file, error: result.error?.message, status: result.status }).toEqual({
        file,
        error: undefined,
        status: 0,
      });
      expect(result.stdout).toMatch(/^Usage: ota-/);
    }
  });

  test('user add --mqtt-user and user set --mqtt-user; GET /v1/account shows it', async () => {
    const dataDir = tempDataDir();
    const added = await cliJson<Record<string, string>>([
      'user',
      'add',
      'fleet@example.com',
      '--mqtt-user',
      'fleet-one',
      '--data',
      dataDir,
    ]);
    expect(added).toMatchObject({ email: 'fleet@example.com', mqtt_user: 'fleet-one' });
    const changed = await cliJson([
      'user',
      'set',
      'fleet@example.com',
      '--mqtt-user',
      'fleet-two',
      '--data',
      dataDir,
    ]);
    expect(changed).toEqual({
      id: added.id,
      email: 'fleet@example.com',
      role: 'user',
      mqtt_user: 'fleet-two',
    });
    await cliJson(['user', 'add', 'other@example.com', '--data', dataDir]);
    for (const [name, message] of [
      ['fleet-two', 'already set on another account'],
      ['a/b', 'mqtt_user must be'],
    ]) {
      const refused = await runCli([
        'user',
        'set',
        'other@example.com',
        '--mqtt-user',
        name,
        '--data',
        dataDir,
      ]);
      expect({ code: refused.code, message: refused.stderr.includes(message) }).toEqual({
        code: 1,
        message: true,
      });
    }

    const registry = await spawnRegistry(dataDir);
    try {
      expect(
        (await request(`${registry.url}/v1/account`, { apiKey: added.apiKey })).body,
      ).toMatchObject({ mqtt_user: 'fleet-two' });
    } finally {
      registry.child.kill('SIGTERM');
      await registry.exited;
    }
    const removed = await cliJson([
      'user',
      'set',
      'fleet@example.com',
      '--mqtt-user',
      '',
      '--data',
      dataDir,
    ]);
    expect(removed).toMatchObject({ mqtt_user: null });
  });

  test('a failing command with --json prints one JSON object and exits 1', async () => {
    const result = await runCli([
      'key',
      'create',
      '--user',
      'nobody@example.com',
      '--data',
      tempDataDir(),
      '--json',
    ]);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      message: Messages.noSuchUser('nobody@example.com'),
    });
  });
});
