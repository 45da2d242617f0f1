#!/usr/bin/env node
// @ts-check
/**
 * `node bench/metrics-scrape.js [devices]` (after npm run build:server): what a Prometheus
 * scrape costs the devices' polls on a registry of 100,000 devices (or `devices`). Seeds one (bench/lib/seed.js; 1 in 3 devices
 * reported the served version, 1 in 3 another), then polls `latest` in a loop from one client,
 * first alone for 5 s, then while /metrics is scraped 3 times 11 s apart (the registry reuses a
 * count for 10 s, so each scrape counts `ota_devices` anew, reading every device row:
 * docs/self-hosting.md, "Monitoring"). Prints the polls' latencies; takes about a minute.
 */
import Database from 'better-sqlite3';
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { forMs, pollClient } from './lib/poll-loop.js';
import { startRegistry } from './lib/registry-process.js';
import { seedRegistry } from './lib/seed.js';

const DEVICES = Number(process.argv[2] ?? 100_000);
if (!Number.isInteger(DEVICES) || DEVICES < 1) {
  process.stderr.write('usage: node bench/metrics-scrape.js [devices]\n');
  process.exit(2);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-bench-metrics-'));
try {
  const dataDir = path.join(dir, 'data');
  process.stderr.write(`› seeding ${DEVICES} devices...\n`);
  const { ids } = await seedRegistry(dataDir, {
    devices: DEVICES,
    versions: 1,
    firmware: Buffer.alloc(4096, 0xe9),
  });
  const db = new Database(path.join(dataDir, 'registry.db'));
  db.exec(`UPDATE devices SET running_version = CASE rowid % 3 WHEN 0 THEN NULL
    WHEN 1 THEN ota_version ELSE '0.0.1' END`);
  db.close();

  const registry = await startRegistry({
    dataDir,
    logFile: path.join(dir, 'registry.log'),
    requestLog: false,
  });
  const { timed, poll, close } = pollClient(registry.url, ids);
  await poll(forMs(1000));
  console.log(`polls alone:         ${await poll(forMs(5000))}`);
  /** @type {string[]} */
  const scrapes = [];
  let scraped = false;
  const scraping = (async () => {
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(11_000);
      scrapes.push((await timed('/metrics')).toFixed(0));
    }
    await sleep(500);
    scraped = true;
  })();
  console.log(`polls while scraped: ${await poll(() => scraped)}`);
  await scraping;
  console.log(`scrapes (ms):        ${scrapes.join(' ')} (the first also starts the thread)`);
  close();
  await registry.stop();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
