#!/usr/bin/env node
// @ts-check
/**
 * `node bench/summary-polls.js [devices] [--baseline REF]` (after npm run build:server): what
 * the dashboard's fleet summary (`GET /v1/fleet/summary`, every device row read) costs the
 * devices' polls on a registry of 100,000 devices (or `devices`). Seeds one (bench/lib/seed.js;
 * 1 in 3 devices reported the served version, 1 in 3 another, 1 in 5 silent), then polls
 * `latest` in a loop from one client, first alone for 5 s, then for 10 s while another client
 * asks the summary back to back (an operator with the Fleet view open, many times over).
 *
 * `--baseline REF` (e.g. `main~1`): the same, first against REF's registry (its server sources,
 * `git archive`d to a temporary directory and compiled there with this checkout's TypeScript and
 * node_modules), then this build, on the same data: before and after in one run, on one
 * machine's load. Takes about a minute (two with a baseline).
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forMs, pollClient, quantile } from './lib/poll-loop.js';
import { startRegistry } from './lib/registry-process.js';
import { seedRegistry } from './lib/seed.js';

const args = process.argv.slice(2);
const refAt = args.indexOf('--baseline');
const baseline = refAt >= 0 ? args.splice(refAt, 2)[1] : undefined;
const DEVICES = Number(args[0] ?? 100_000);
if (!Number.isInteger(DEVICES) || DEVICES < 1 || (refAt >= 0 && !baseline)) {
  process.stderr.write('usage: node bench/summary-polls.js [devices] [--baseline REF]\n');
  process.exit(2);
}
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-bench-summary-'));

/** REF's registry, compiled in `dir`: the path of its CLI. @param {string} ref */
function buildBaseline(ref) {
  const root = path.join(dir, 'baseline');
  fs.mkdirSync(root);
  const files = ['contract', 'server', 'action', 'package.json', 'tsconfig.json'];
  const tar = execFileSync('git', ['archive', ref, ...files, 'tsconfig.build.json'], {
    cwd: repo,
    maxBuffer: 256 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', root], { input: tar });
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'));
  const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  return path.join(root, 'build/server/cli/main.js');
}

try {
  const baselineCli =
    baseline && (process.stderr.write(`› building ${baseline}...\n`), buildBaseline(baseline));
  const dataDir = path.join(dir, 'data');
  process.stderr.write(`› seeding ${DEVICES} devices...\n`);
  const { ids, apiKey } = await seedRegistry(dataDir, {
    devices: DEVICES,
    versions: 1,
    firmware: Buffer.alloc(4096, 0xe9),
  });
  const db = new Database(path.join(dataDir, 'registry.db'));
  db.exec(`UPDATE devices SET running_version = CASE rowid % 3 WHEN 0 THEN NULL
    WHEN 1 THEN ota_version ELSE '0.0.1' END,
    last_contact = CASE WHEN rowid % 5 = 0 THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ') END`);
  db.close();

  /** @param {string} name @param {string | undefined} cli */
  const measure = async (name, cli) => {
    const registry = await startRegistry({
      dataDir,
      logFile: path.join(dir, `${name}.log`),
      requestLog: false,
      cli,
    });
    const { timed, poll, close } = pollClient(registry.url, ids);
    try {
      await timed('/v1/fleet/summary', { Authorization: `Bearer ${apiKey}` });
      await poll(forMs(1000));
      console.log(`${name}: polls alone:          ${await poll(forMs(5000))}`);
      /** @type {number[]} */
      const summaries = [];
      let done = false;
      const asking = (async () => {
        while (!done)
          summaries.push(await timed('/v1/fleet/summary', { Authorization: `Bearer ${apiKey}` }));
      })();
      const during = await poll(forMs(10_000));
      done = true;
      await asking;
      summaries.sort((a, b) => a - b);
      console.log(`${name}: polls during summaries: ${during}`);
      console.log(
        `${name}: summaries:              ${summaries.length}, p50 ${quantile(summaries, 0.5)} ms, max ${quantile(summaries, 1)} ms`,
      );
    } finally {
      close();
      await registry.stop();
    }
  };
  if (baselineCli) await measure(`before (${baseline})`, baselineCli);
  await measure('after', undefined);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
