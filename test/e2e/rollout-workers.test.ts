/**
 * A rollout on `serve --workers 2`: the kernel spreads the fleet's downloads over both
 * processes, which decide from the database alone. Every device is offered the release exactly
 * once, the phases advance once each, and the rollout completes.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { build } from '../support/builds.js';
import { deployTo } from '../support/fleet.js';
import { startRegistryProcess, type OperatedRegistry } from '../support/registry-process.js';
import { arduinoFleet, rolloutOf } from '../support/rollout-fleet.js';
import type { TestRegistry } from '../support/registry.js';

let operated: OperatedRegistry;
let registry: TestRegistry;
let apiKey: string;

beforeAll(async () => {
  operated = await startRegistryProcess(['--workers', '2']);
  ({ apiKey } = await operated.addUser('workers-rollout@example.com'));
  // The fleet helpers need the URL and a way to add devices: the API gives both.
  registry = {
    url: operated.url,
    addDevice: async (key: string) => {
      const res = await fetch(`${operated.url}/v1/devices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const body = (await res.json()) as { _id: string; token: string };
      return { id: body._id, token: body.token };
    },
  } as TestRegistry;
});
afterAll(() => operated?.stop());

test('100 devices against two workers: every phase once, every device offered it once', async () => {
  const fleet = await arduinoFleet(registry, apiKey, 100, '1.0.0');
  const upload = await deployTo(registry, apiKey, 'group', fleet.group, '1.1.0', build('1.1.0'), {
    rollout: '10,50,100',
    rollout_advance: 'auto',
  });
  expect(upload.status).toBe(201);
  const phases: number[] = [];
  let state = 'running';
  for (let round = 0; round < 10 && state !== 'completed'; round++) {
    await fleet.round();
    const rollout = await rolloutOf(registry, apiKey, fleet.group.id);
    phases.push(rollout.phase);
    state = rollout.state;
  }
  expect(state).toBe('completed');
  expect(phases).toEqual([...phases].sort());
  expect(fleet.devices.every((device) => device.downloads === 1)).toBe(true);
  expect(fleet.devices.every((device) => device.version === '1.1.0')).toBe(true);
});
