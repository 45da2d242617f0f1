import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { md5 } from '../../support/hashes.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REMOVED_DIR } from '../../../server/storage/local-files/firmware-files.js';
import { generateEspImage } from '../../support/esp-image-generator.js';
import { download, request, tempDataDir, upload, waitFor } from '../../support/registry.js';
import {
  cliJson,
  killAllRegistries,
  runCli,
  spawnRegistry,
  type RegistryProcess,
} from '../../support/registry-process.js';

const mode = (file: string) => fs.statSync(file).mode & 0o777;

/** `ota-registry backup`, run as an operator would, beside a running `ota-registry serve`. */
describe('ota-registry backup', () => {
  const work = tempDataDir();
  const dataDir = path.join(work, 'data');
  const backupDir = path.join(work, 'backup');
  const email = 'backup@example.com';
  let server: RegistryProcess;
  let apiKey: string;
  let devices: { _id: string; token: string }[];
  /** Every upload answered 201: `<device>/<version>` → its bytes. */
  const uploaded = new Map<string, Buffer>();
  const cli = <T>(...args: string[]) => cliJson<T>([...args, '--data', dataDir]);

  beforeAll(async () => {
    apiKey = (await cli<{ apiKey: string }>('user', 'add', email)).apiKey;
    devices = [];
    for (let i = 0; i < 3; i++) devices.push(await cli('device', 'add', '--user', email));
    // Two versions kept: uploads during the backup remove the files of older ones.
    server = await spawnRegistry(dataDir, ['--history', '2', '--no-request-log']);
  });

  afterAll(() => {
    killAllRegistries();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('a backup made while uploads run restores into a registry serving every version it names', async () => {
    let uploading = true;
    const uploadLoop = async (device: { _id: string; token: string }, index: number) => {
      for (let n = 0; uploading; n++) {
        const version = `1.0.${n}`;
        const bytes = generateEspImage({ seed: index * 1000 + n, size: 128 * 1024 });
        const res = await upload(
          `${server.url}/v1/ota/device`,
          apiKey,
          { device: device._id, token: device.token, version },
          [{ bytes }],
        );
        if (res.status !== 201) throw new Error(`upload ${version}: ${res.status}`);
        uploaded.set(`${device._id}/${version}`, bytes);
      }
    };
    const loops = devices.map(uploadLoop);
    await waitFor(() => uploaded.size >= 9, 'three uploads per device', 30_000);
    const currentBefore = await Promise.all(devices.map((d) => currentVersion(server.url, d._id)));

    const before = uploaded.size;
    // Several backups in a row, all beside uploads that prune old versions: each must succeed.
    // (A backup that retried on files removed after its snapshot lost this race on a busy CI
    // machine.)
    const removedMeanwhile: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const earlier = await runCli([
        'backup',
        `${backupDir}-${round}`,
        '--data',
        dataDir,
        '--json',
      ]);
      expect(earlier.stderr).toBe('');
      expect(earlier.code).toBe(0);
      removedMeanwhile.push(
        (JSON.parse(earlier.stdout) as { removedMeanwhile: number }).removedMeanwhile,
      );
    }
    const result = await runCli(['backup', backupDir, '--data', dataDir, '--json']);
    const whileBackingUp = uploaded.size - before;
    uploading = false;
    await Promise.all(loops);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      dir: string;
      versions: number;
      bytes: number;
      removedMeanwhile: number;
    };
    expect(summary.dir).toBe(backupDir);
    removedMeanwhile.push(summary.removedMeanwhile);
    console.log(
      `[backup] 4 backups beside uploads; versions pruned meanwhile, copied from removed/: ${removedMeanwhile.join(', ')}`,
    );
    // The backup really ran beside uploads.
    expect(whileBackingUp).toBeGreaterThan(0);
    expect(mode(backupDir)).toBe(0o700);
    expect(mode(path.join(backupDir, 'registry.db'))).toBe(0o600);
    expect(fs.existsSync(path.join(backupDir, 'registry.db.partial'))).toBe(false);

    // Restore as docs/self-hosting.md says: copy the backup into a new data directory, start.
    const restoredDir = path.join(work, 'restored');
    fs.mkdirSync(restoredDir, { mode: 0o700 });
    const copy = spawnSync('cp', ['-a', `${backupDir}/.`, restoredDir], { encoding: 'utf8' });
    expect(copy.stderr).toBe('');
    const restored = await spawnRegistry(restoredDir, ['--no-request-log']);

    let versions = 0;
    let bytes = 0;
    for (const [i, device] of devices.entries()) {
      const history = (await request(`${restored.url}/v1/ota/device/${device._id}/history`, {
        apiKey,
      })) as { status: number; body: { current: string; history: { version: string }[] } };
      expect(history.status).toBe(200);
      // Nothing answered 201 before the backup started is older than what it serves.
      expect(patch(history.body.current)).toBeGreaterThanOrEqual(patch(currentBefore[i]));
      for (const { version } of history.body.history) {
        const expected = uploaded.get(`${device._id}/${version}`)!;
        expect(expected).toBeDefined();
        const rollback = await request(`${restored.url}/v1/ota/device/${device._id}/rollback`, {
          method: 'POST',
          apiKey,
          json: { version },
        });
        expect(rollback.status).toBe(200);
        const got = await download(
          `${restored.url}/v1/ota/device/download/${device._id}${device.token}`,
        );
        expect(got.status).toBe(200);
        expect(got.headers.get('content-length')).toBe(String(expected.length));
        expect(got.headers.get('x-md5')).toBe(md5(expected));
        expect(got.bytes.equals(expected)).toBe(true);
        versions++;
        bytes += expected.length;
      }
    }
    expect({ versions, bytes }).toEqual({ versions: summary.versions, bytes: summary.bytes });
    restored.child.kill('SIGTERM');
    expect((await restored.exited).code).toBe(0);
  });

  test.each([
    ['no directory', [], /backup needs the directory/],
    ['a directory that is not empty', [dataDir], /is not empty/],
    [
      'a data directory without a registry',
      [path.join(work, 'new'), '--data', work],
      /no registry/,
    ],
  ])('%s: one line naming it, exit 2', async (_, args, message) => {
    const result = await runCli([
      'backup',
      ...args,
      ...(args.includes('--data') ? [] : ['--data', dataDir]),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('a file removed after the snapshot is copied from removed/ while its grace period lasts', async () => {
    const device = devices[1];
    const history = (await request(`${server.url}/v1/ota/device/${device._id}/history`, {
      apiKey,
    })) as { body: { history: { path: string; current: boolean }[] } };
    const old = history.body.history.find((entry) => !entry.current)!;
    // What the server does when it prunes a version after a backup's snapshot.
    const removed = path.join(dataDir, REMOVED_DIR, `${Date.now()}-0000`, old.path);
    fs.mkdirSync(path.dirname(removed), { recursive: true });
    const bytes = fs.readFileSync(path.join(dataDir, old.path));
    fs.renameSync(path.join(dataDir, old.path), removed);

    const target = path.join(work, 'from-removed');
    const result = await runCli(['backup', target, '--data', dataDir, '--json']);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ removedMeanwhile: 1 });
    expect(fs.readFileSync(path.join(target, old.path)).equals(bytes)).toBe(true);
    expect(fs.existsSync(path.join(target, REMOVED_DIR))).toBe(false);

    // Put back for the next test.
    fs.renameSync(removed, path.join(dataDir, old.path));
  });

  test('a record whose file is gone: exit 1 naming it, and no registry.db in the target', async () => {
    const device = devices[0];
    const history = (await request(`${server.url}/v1/ota/device/${device._id}/history`, {
      apiKey,
    })) as { body: { history: { path: string; current: boolean }[] } };
    const old = history.body.history.find((entry) => !entry.current)!;
    fs.rmSync(path.join(dataDir, old.path));
    const target = path.join(work, 'incomplete');
    const result = await runCli(['backup', target, '--data', dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(old.path);
    expect(fs.existsSync(path.join(target, 'registry.db'))).toBe(false);
  });
});

async function currentVersion(url: string, deviceId: string): Promise<string> {
  const res = await fetch(`${url}/v1/ota/device/latest/${deviceId}`);
  return ((await res.json()) as { ver: string }).ver;
}

/** The n of 1.0.n. */
const patch = (version: string) => Number(version.split('.')[2]);
