#!/usr/bin/env node
/**
 * What the dashboard's pages cost the registry at 100,000 devices (issue 12): the devices page
 * (no search, a rare search, a common one, a late page), one group's members, and the fleet
 * summary, each timed in-process through the registry's own services (median and worst of 20
 * after a warm-up; the summary as its caller waits for it, from the counting thread). Usage:
 * `npm run -s build:server && node bench/dashboard-queries.js [devices]`. The numbers are in
 * docs/dashboard.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../build/server/config.js';
import { createContext } from '../build/server/context.js';
import { newObjectId, nowIso } from '../build/server/ids.js';
import { hashSecret } from '../build/server/secrets.js';
import { FleetService } from '../build/server/services/fleet-service.js';
import { DeviceStore } from '../build/server/storage/sqlite/devices.js';
import { FleetSummaryStore } from '../build/server/storage/sqlite/fleet-summary.js';

const DEVICES = Number(process.argv[2] ?? 100_000);
const RUNS = 20;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-dashboard-bench-'));
const context = createContext(loadConfig({ data: dataDir, 'no-request-log': true }, {}));
try {
  const { user } = await context.auth.addUser('bench@example.com', 'admin', null);
  const { group } = context.groups.create(user.id, 'half-the-fleet');
  const devices = new DeviceStore(context.db);
  const join = context.db.prepare(
    'UPDATE devices SET group_id = ?, running_version = ?, last_contact = ? WHERE id = ?',
  );
  const seeded = performance.now();
  context.db.transaction(() => {
    for (let i = 0; i < DEVICES; i++) {
      const id = newObjectId();
      devices.insert({
        id,
        owner: user.id,
        name: `sensor-${String(i).padStart(6, '0')}`,
        tokenHash: hashSecret(id),
        createdAt: nowIso(Date.now() - DEVICES + i),
        chip: null,
      });
      join.run(i % 2 ? group.id : null, `1.0.${i % 7}`, i % 5 ? nowIso() : null, id);
    }
  })();
  const seedMs = performance.now() - seeded;

  const fleet = new FleetService(
    new FleetSummaryStore(context.counting),
    context.groups,
    context.checkins,
    context.reports,
    86400,
  );
  const page = (search, offset = 0) => ({ search, offset, limit: 25, orderDir: 'desc' });
  const cases = [
    ['devices page 1', () => context.devices.list(user.id, page(null))],
    ['devices page 2000', () => context.devices.list(user.id, page(null, 49_975))],
    ['search, 1 match', () => context.devices.list(user.id, page('sensor-054321'))],
    ['search, no match', () => context.devices.list(user.id, page('boiler'))],
    ['search, ~10% match', () => context.devices.list(user.id, page('sensor-09'))],
    ['group members page 1', () => context.devices.list(user.id, page(null), group.id)],
    ['group search, 1 match', () => context.devices.list(user.id, page('sensor-054321'), group.id)],
    ['fleet summary, all', () => fleet.summary(user.id, null)],
    ['fleet summary, group', () => fleet.summary(user.id, group.id)],
  ];
  console.log(`${DEVICES} devices seeded in ${(seedMs / 1000).toFixed(1)} s; ${RUNS} runs each`);
  console.log('query'.padEnd(24), 'median ms'.padStart(10), 'max ms'.padStart(8));
  for (const [name, run] of cases) {
    await run();
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await run();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const median = times[RUNS / 2].toFixed(1);
    console.log(name.padEnd(24), median.padStart(10), times.at(-1).toFixed(1).padStart(8));
  }
} finally {
  await context.counting.stop();
  context.db.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
