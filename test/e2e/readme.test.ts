/**
 * The README's quick start, run as a newcomer pastes it: its shell blocks, extracted from
 * README.md, in bash with `set -euo pipefail`, from the repository's directory, against a fresh
 * registry. Two things differ from a newcomer's machine, and only these: the registry is the one
 * `npm start` runs after its build (`ota-registry serve`; `npm ci` is CI's own first step, and
 * rebuilding build/ while other test files run it would race them), on a free port instead of
 * 3080 (the machine is shared), with its data in a temporary directory (OTA_DATA_DIR) instead
 * of ./data. The commands' `http://localhost:3080` becomes that registry's URL.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, tempDataDir } from '../support/registry.js';
import { spawnRegistry, type RegistryProcess } from '../support/registry-process.js';
import { bash, fencedBlocks } from '../support/shell.js';

const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

describe('README', () => {
  test('stays short, and every relative link in it leads to a file', () => {
    expect(README.split('\n').length).toBeLessThan(250);
    const links = [...README.matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)].map((match) => match[1]);
    expect(links.length).toBeGreaterThan(10);
    for (const link of links) expect(existsSync(path.join(REPO_ROOT, link as string))).toBe(true);
  });

  test('never hides a failed request (curl -s without -f) and never pins a Node 20 action', () => {
    expect(README).not.toMatch(/curl -s(?!S)|curl -s /);
    for (const action of ['actions/checkout@v4', 'actions/setup-node@v4', 'actions/cache@v4']) {
      expect(README).not.toContain(action);
    }
    expect(README).toMatch(/^permissions:\n {2}contents: read/m);
  });
});

describe("the README's quick start", () => {
  const dataDir = path.join(tempDataDir(), 'data');
  let registry: RegistryProcess;

  beforeAll(async () => {
    registry = await spawnRegistry(dataDir);
  });

  afterAll(async () => {
    registry?.child.kill('SIGTERM');
    await registry?.exited;
  });

  test('gets from a clone to a device downloading the uploaded firmware', async () => {
    const [start, ...rest] = fencedBlocks(README, 'quickstart', 'sh');
    expect(start).toBe('npm ci && npm start\n');
    expect(rest).toHaveLength(1);
    const script = (rest[0] as string).replaceAll('http://localhost:3080', registry.url);
    expect(script).not.toContain('3080');

    const result = await bash(script, { cwd: REPO_ROOT, env: { OTA_DATA_DIR: dataDir } });

    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const [uploaded, latest, same, ...more] = result.stdout.split('\n');
    expect(JSON.parse(uploaded as string)).toMatchObject({
      message: 'Firmware successfully deployed',
      ota: { version: '1.0.0', size: 65536, chip: 'esp32', ota_client: ['iotaap-os'] },
    });
    expect(latest).toBe('{"ver":"1.0.0"}');
    expect(same).toBe('the device gets the uploaded bytes');
    expect(more).toEqual(['']);
  }, 180_000);
});
