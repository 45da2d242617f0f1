import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `npm run bench` end to end, as short as it goes: every phase runs and the table and the
 * results file come out. No figure is asserted (timings on a shared CI runner mean nothing);
 * nginx is used when installed, else left out.
 */
describe('npm run bench (smoke)', () => {
  test('prints the table and writes the results as JSON', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-bench-smoke-'));
    const out = path.join(dir, 'results.json');
    const args = [
      'bench/run.js',
      '--quick',
      '--duration',
      '1',
      '--soak',
      '1',
      '--warmup',
      '0',
      '--devices',
      '200',
      '--out',
      out,
    ];
    const { stdout } = await promisify(execFile)(process.execPath, args, {
      cwd: ROOT,
      timeout: 60_000,
    }).catch(async (err: { stderr?: string }) => {
      if (!/nginx is not installed/.test(err.stderr ?? '')) throw err;
      return promisify(execFile)(process.execPath, [...args, '--without-nginx'], {
        cwd: ROOT,
        timeout: 60_000,
      });
    });
    expect(stdout).toMatch(/^figure\s+registry\s+nginx\s+ratio\s+target\s+result$/m);
    expect(stdout).toMatch(/^latest: requests\/s \(100 conn\)/m);
    expect(stdout).toMatch(/^soak 1 s: errors \+ timeouts/m);
    const results = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(results.rows.map((row: { key: string }) => row.key)).toEqual(
      expect.arrayContaining([
        'latest_rps',
        'download_mbps',
        'upload_created',
        'list_p95',
        'idle_rss',
        'soak_errors',
      ]),
    );
    expect(results.details.uploads.statuses).toHaveLength(20);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 90_000);
});
