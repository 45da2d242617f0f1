import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/registry.js';
import { debianBinary } from '../support/debian.js';

const UNITS = path.join(REPO_ROOT, 'deploy/systemd');
const analyze = debianBinary('systemd-analyze', ['/usr/bin/systemd-analyze'], 'systemd');
const sysusers = debianBinary('systemd-sysusers', ['/usr/bin/systemd-sysusers'], 'systemd');

const run = (binary: string, args: string[]) => spawnSync(binary, args, { encoding: 'utf8' });

(analyze ? describe : describe.skip)('the systemd units (deploy/systemd)', () => {
  const units = fs
    .readdirSync(UNITS)
    .filter((name) => /\.(service|timer)$/.test(name))
    .map((name) => path.join(UNITS, name));

  test('systemd-analyze verify finds nothing to say about any unit', () => {
    expect(units.map((unit) => path.basename(unit)).sort()).toEqual([
      'ota-registry-backup.service',
      'ota-registry-backup.timer',
      'ota-registry.service',
    ]);
    // verify exits 0 on unknown keys and bad values too, only warning: its output must be empty.
    const result = run(analyze!, ['verify', ...units]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  test.each(['ota-registry.service', 'ota-registry-backup.service'])(
    '%s is hardened: systemd-analyze security rates its exposure at most 2.0 of 10',
    (unit) => {
      const result = run(analyze!, [
        'security',
        '--offline=true',
        '--threshold=20',
        path.join(UNITS, unit),
      ]);
      const level = /Overall exposure level for \S+: (\d+\.\d)/.exec(result.stdout);
      expect(level).not.toBeNull();
      expect(Number(level![1])).toBeLessThanOrEqual(2.0);
      expect(result.status).toBe(0);
    },
  );

  (sysusers ? test : test.skip)('the sysusers.d file creates the unit’s own user', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-sysusers-'));
    try {
      fs.mkdirSync(path.join(root, 'etc'));
      const result = run(sysusers!, [
        '--dry-run',
        `--root=${root}`,
        path.join(UNITS, 'ota-registry.sysusers'),
      ]);
      expect(result.status).toBe(0);
      expect(result.stdout + result.stderr).toContain("Creating user 'ota-registry'");
      const unit = fs.readFileSync(path.join(UNITS, 'ota-registry.service'), 'utf8');
      expect(unit).toMatch(/^User=ota-registry$/m);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
