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
      // The PostgreSQL phases have their own test (below): together they outlast the timeout.
      '--only',
      'small,large,mqtt,rollout,action,s3',
      '--out',
      out,
    ];
    const { stdout } = await promisify(execFile)(process.execPath, args, {
      cwd: ROOT,
      // 57 s alone on a 2-core machine shared with other jobs: 60 s left no margin.
      timeout: 120_000,
    }).catch(async (err: { stderr?: string }) => {
      if (!/nginx is not installed/.test(err.stderr ?? '')) throw err;
      return promisify(execFile)(process.execPath, [...args, '--without-nginx'], {
        cwd: ROOT,
        timeout: 120_000,
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
  }, 250_000);

  /**
   * The postgres and replicas phases on the machine's PostgreSQL; where none answers, they are
   * skipped and say so (the bench measures a real server or nothing).
   */
  test('measures PostgreSQL against SQLite and two replicas against one, or says why not', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-bench-smoke-'));
    const out = path.join(dir, 'results.json');
    const args = [
      'bench/run.js',
      '--quick',
      '--duration',
      '1',
      '--warmup',
      '0',
      '--without-nginx',
      '--only',
      'postgres,replicas',
      '--out',
      out,
    ];
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, {
      cwd: ROOT,
      timeout: 80_000,
    });
    const results = JSON.parse(fs.readFileSync(out, 'utf8'));
    const rows = new Map<string, { registry: unknown; ratio?: unknown }>(
      results.rows.map((row: { key: string }) => [row.key, row]),
    );
    if (results.details.postgres_skipped) {
      expect(stderr).toMatch(/^› postgres, replicas: skipped: no PostgreSQL answers at /m);
      expect(rows.get('pg_latest_rps')?.registry).toBeNull();
    } else {
      expect(stdout).toMatch(/^PostgreSQL: latest requests\/s \(ratio: vs SQLite\)/m);
      for (const key of ['pg_latest_rps', 'pg_download_mbps', 'replicas_two_rps']) {
        expect(rows.get(key)?.registry).toBeGreaterThan(0);
        expect(rows.get(key)?.ratio).toBeGreaterThan(0);
      }
      expect(rows.get('pg_query_us')?.registry).toBeGreaterThan(0);
      for (const name of ['pg_latest_postgres', 'replicas_two']) {
        expect(results.details[name].errors).toBe(0);
        expect(results.details[name].unexpected).toBe(0);
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
