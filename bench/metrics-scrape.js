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
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
  const agent = new http.Agent({ keepAlive: true });
  /** @param {string} pathname @returns {Promise<number>} milliseconds */
  const timed = (pathname) =>
    new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      http
        .get(`${registry.url}${pathname}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
        })
        .on('error', reject);
    });
  /** @param {() => boolean} until */
  const poll = async (until) => {
    /** @type {number[]} */
    const latencies = [];
    while (!until()) {
      latencies.push(await timed(`/v1/ota/device/latest/${ids[latencies.length % ids.length]}`));
    }
    latencies.sort((a, b) => a - b);
    const at = (/** @type {number} */ q) =>
      latencies[Math.floor(q * (latencies.length - 1))].toFixed(2);
    return `${latencies.length} polls, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`;
  };
  const forMs = (/** @type {number} */ ms) => {
    const end = Date.now() + ms;
    return () => Date.now() >= end;
  };

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
  agent.destroy();
  await registry.stop();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
