import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { bucketOf } from '../../server/services/rollout-service.js';
import { deployTo } from '../support/fleet.js';
import { CRASHES, build } from '../support/builds.js';
import { arduinoFleet, rolloutOf } from '../support/rollout-fleet.js';
import { request, startRegistry, type TestRegistry } from '../support/registry.js';

/** In a phase of `percent`: the registry's rule, from the MAC alone (API.md "Staged rollouts"). */
const inPhase = (mac: string, percent: number) => bucketOf(mac) < percent * 100;

describe('staged rollouts driven by fleets of stock Arduino updaters', () => {
  let registry: TestRegistry;
  let apiKey: string;
  const FLEET = 120;

  beforeAll(async () => {
    registry = await startRegistry();
    apiKey = await registry.addUser();
  });
  afterAll(() => registry.close());

  test('a good release goes through every phase and completes; every device runs it', async () => {
    const fleet = await arduinoFleet(registry, apiKey, FLEET, '1.0.0');
    const upload = await deployTo(registry, apiKey, 'group', fleet.group, '1.1.0', build('1.1.0'), {
      rollout: '10,50,100',
      rollout_advance: 'auto',
    });
    expect(upload).toMatchObject({
      status: 201,
      body: {
        rollout: { version: '1.1.0', previous_version: '1.0.0', phase: 0, state: 'running' },
      },
    });

    // The first round: only the devices of the first phase take it.
    await fleet.round();
    const first = fleet.devices.filter((device) => device.downloads > 0);
    expect(first.length).toBeGreaterThan(0);
    expect(first.every((device) => inPhase(device.mac, 10))).toBe(true);
    expect(first.length).toBe(fleet.devices.filter((device) => inPhase(device.mac, 10)).length);
    expect(await rolloutOf(registry, apiKey, fleet.group.id)).toMatchObject({
      phase: 0,
      state: 'running',
      devices: { in_phase: first.length, downloaded: first.length, verified: 0, failed: 0 },
    });

    const phases: number[] = [];
    let state = 'running';
    for (let round = 0; round < 8 && state !== 'completed'; round++) {
      await fleet.round();
      const rollout = await rolloutOf(registry, apiKey, fleet.group.id);
      phases.push(rollout.phase);
      state = rollout.state;
    }
    expect(state).toBe('completed');
    expect(phases).toEqual(expect.arrayContaining([1, 2]));
    expect(fleet.devices.every((device) => device.version === '1.1.0')).toBe(true);
    // Each device downloaded exactly once: nobody was offered the version twice.
    expect(fleet.devices.every((device) => device.downloads === 1)).toBe(true);
    const done = await rolloutOf(registry, apiKey, fleet.group.id);
    // `auto` completes the last phase at advance_at (90%) of the group verified.
    expect(done.devices).toMatchObject({ in_phase: FLEET, failed: 0 });
    expect(done.devices.verified).toBeGreaterThanOrEqual(0.9 * FLEET);
    // Completed: the group serves the version to everyone, rollout or not.
    const next = await deployTo(registry, apiKey, 'group', fleet.group, '1.2.0', build('1.2.0'));
    expect(next.status).toBe(201);
  });

  test('a bad release halts in the first phase; the rest of the group is never offered it', async () => {
    const fleet = await arduinoFleet(registry, apiKey, FLEET, '2.0.0');
    const bad = build('2.1.0', { projectName: CRASHES });
    const upload = await deployTo(registry, apiKey, 'group', fleet.group, '2.1.0', bad, {
      rollout: '10,50,100',
      rollout_advance: 'auto',
      rollout_halt_after_failures: '2',
    });
    expect(upload.status).toBe(201);
    for (let round = 0; round < 4; round++) await fleet.round();

    const rollout = await rolloutOf(registry, apiKey, fleet.group.id);
    expect(rollout).toMatchObject({ phase: 0, state: 'halted' });
    const tried = fleet.devices.filter((device) => device.downloads > 0);
    expect(tried.every((device) => inPhase(device.mac, 10))).toBe(true);
    // Every device that tried rolled back, still runs 2.0.0, and is named with the reason.
    expect(tried.every((device) => device.version === '2.0.0')).toBe(true);
    expect(rollout.failures.map((failure) => failure.device).sort()).toEqual(
      tried.map((device) => device.mac).sort(),
    );
    expect(rollout.failures[0].reason).toBe(
      'downloaded 2.1.0, then reported 2.0.0 (rolled back, or it never booted it)',
    );
    // A device that failed is not offered it again (it would loop); nobody else gets it.
    expect(tried.every((device) => device.downloads === 1)).toBe(true);
    expect(fleet.devices.filter((d) => !inPhase(d.mac, 10)).every((d) => d.downloads === 0)).toBe(
      true,
    );
    // The group's latest names the version under rollout; downloads decide per device.
    const latest = await request(`${registry.url}/v1/ota/group/latest/${fleet.group.id}`);
    expect(latest.body).toEqual({ ver: '2.1.0' });

    // Recovering: abort, and the previous version is what every device is served.
    const aborted = await request(`${registry.url}/v1/ota/group/${fleet.group.id}/rollout/abort`, {
      method: 'POST',
      apiKey,
    });
    expect(aborted).toMatchObject({ status: 200, body: { state: 'aborted' } });
    await fleet.round();
    expect(fleet.devices.every((device) => device.version === '2.0.0')).toBe(true);
    expect(fleet.devices.every((device) => device.downloads <= 1)).toBe(true);
  });

  test('abort serves the previous version again, to devices that took the new one too', async () => {
    const fleet = await arduinoFleet(registry, apiKey, FLEET, '3.0.0');
    await deployTo(registry, apiKey, 'group', fleet.group, '3.1.0', build('3.1.0'), {
      rollout: '25,100',
    });
    await fleet.round();
    await fleet.round();
    const took = fleet.devices.filter((device) => device.version === '3.1.0');
    expect(took.length).toBeGreaterThan(0);
    expect(await rolloutOf(registry, apiKey, fleet.group.id)).toMatchObject({
      state: 'running',
      phase: 0,
      devices: { verified: took.length },
    });

    const res = await request(`${registry.url}/v1/ota/group/${fleet.group.id}/rollout/abort`, {
      method: 'POST',
      apiKey,
    });
    expect(res).toMatchObject({ status: 200, body: { state: 'aborted' } });
    const latest = await request(`${registry.url}/v1/ota/group/latest/${fleet.group.id}`);
    expect(latest.body).toEqual({ ver: '3.0.0' });
    await fleet.round();
    expect(fleet.devices.every((device) => device.version === '3.0.0')).toBe(true);
    // Only the devices that had taken 3.1.0 downloaded again (3.0.0); the rest got 304.
    expect(fleet.devices.filter((device) => device.downloads === 2).length).toBe(took.length);
  });
});
