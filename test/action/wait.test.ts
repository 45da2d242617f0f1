import { describe, expect, test } from '@jest/globals';
import { SettingsError } from '../../action/errors.js';
import type { RegistryClient } from '../../action/registry-client.js';
import { parseSettings, type RawSettings } from '../../action/settings.js';
import { fleetFailure, formatDuration, waitForFleet, type FleetReport } from '../../action/wait.js';
import { RecordingLogger } from './fakes.js';

const GROUP = { 'group-id': '5e1b57808711f904f5df4bad', 'group-token': 'abc123' };
const DEVICE = { 'device-id': '5e1b57808711f904f5df4bad', 'device-token': 'abc123' };
const SELF_HOSTED = { 'registry-url': 'https://ota.example.com', 'api-token': 'key' };

const settings = (raw: RawSettings) =>
  parseSettings({ version: '1.2.0', ...raw }, { missing: 'no tag' }, '/work/project');
const refused = (raw: RawSettings) => {
  try {
    settings(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('rollout and wait settings', () => {
  test('parsed: phases and a duration', () => {
    expect(
      settings({ ...SELF_HOSTED, ...GROUP, rollout: '5, 25,100', wait: '1h30m' }),
    ).toMatchObject({ rollout: [5, 25, 100], waitMs: 5_400_000 });
    expect(settings({ ...SELF_HOSTED, ...DEVICE, wait: '90s' }).waitMs).toBe(90_000);
    const none = settings({ ...SELF_HOSTED, ...DEVICE, wait: '0' });
    expect(none.waitMs).toBeUndefined();
    expect(none.rollout).toBeUndefined();
  });

  test("refused at once with IoTaaP's cloud, saying why", () => {
    const cloud = { 'api-token': 'key', ...GROUP };
    expect(refused({ ...cloud, rollout: '5,100' })).toMatch(
      /^rollout is not available with IoTaaP's cloud \(api\.iotaap\.io\): it has no staged rollouts/,
    );
    expect(refused({ ...cloud, rollout: '100', wait: '15m' })).toMatch(/^rollout is not available/);
    expect(refused({ 'api-token': 'key', ...DEVICE, wait: '15m' })).toMatch(
      /^wait is not available with IoTaaP's cloud/,
    );
  });

  test('bad values and combinations', () => {
    for (const rollout of ['5,25', '25,5,100', '0,100', 'x', '5,,100', '101']) {
      expect(refused({ ...SELF_HOSTED, ...GROUP, rollout })).toMatch(/^rollout must be rising/);
    }
    for (const wait of ['15', '15 m', '7h', '1d', 'm', '-1m']) {
      expect(refused({ ...SELF_HOSTED, ...DEVICE, wait })).toMatch(/^wait must be a duration/);
    }
    expect(refused({ ...SELF_HOSTED, ...DEVICE, rollout: '5,100' })).toMatch(
      /^rollout stages a group's devices/,
    );
    expect(refused({ ...SELF_HOSTED, ...GROUP, wait: '5m' })).toMatch(
      /^wait on a group needs rollout/,
    );
  });
});

/** A registry that answers the rollout with the bodies given, one per look (the last repeats). */
function registryAnswering(bodies: Array<unknown | Error>): RegistryClient {
  let look = 0;
  return {
    get: async () => {
      const body = bodies[Math.min(look++, bodies.length - 1)];
      if (body instanceof Error) throw body;
      return { status: 200, body };
    },
  } as unknown as RegistryClient;
}

const rollout = (state: string, extra: Record<string, unknown> = {}) => ({
  version: '1.2.0',
  phases: [10, 100],
  phase: 0,
  state,
  devices: { in_phase: 10, downloaded: 4, verified: 3, failed: 0, silent: 6 },
  failures: [],
  ...extra,
});

/** A clock that moves only when the wait sleeps. */
function fakeClock() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => void (now += ms) };
}

describe('waitForFleet', () => {
  const base = {
    authToken: 'key',
    version: '1.2.0',
    target: { kind: 'group' as const, id: GROUP['group-id'], token: 't' },
  };

  test('completed: verified; progress logged every 30 s, network trouble waited out', async () => {
    const logger = new RecordingLogger();
    const bodies = [
      rollout('running'),
      new Error('socket hang up'),
      ...Array.from({ length: 12 }, () => rollout('running', { phase: 1 })),
      rollout('completed', { phase: 1 }),
    ];
    const report = await waitForFleet({
      ...base,
      client: registryAnswering(bodies),
      waitMs: 600_000,
      logger,
      ...fakeClock(),
    });
    expect(report).toMatchObject({
      outcome: 'verified',
      state: 'completed',
      verified: 3,
      silent: 6,
    });
    expect(report.waitedMs).toBe(70_000);
    expect(logger.warnings).toEqual([
      'warning: Could not ask the registry for progress: socket hang up',
    ]);
    const progress = logger.lines.filter((line) => line.includes('left.'));
    expect(progress).toEqual([
      'running, phase 2 of 2 (100%): 3 verified, 4 downloaded, 0 failed, 6 silent; 9m30s left.',
      'running, phase 2 of 2 (100%): 3 verified, 4 downloaded, 0 failed, 6 silent; 9m left.',
    ]);
  });

  test('halted: failed at once, the devices named, how to recover', async () => {
    const failures = [
      { device: '24:0A:C4:00:00:01', reason: 'downloaded 1.2.0, then reported 1.1.0', at: 'x' },
    ];
    const report = await waitForFleet({
      ...base,
      client: registryAnswering([
        rollout('halted', { failures, devices: { downloaded: 1, verified: 0, failed: 1 } }),
      ]),
      waitMs: 600_000,
      logger: new RecordingLogger(),
      ...fakeClock(),
    });
    expect(report).toMatchObject({ outcome: 'failed', failed: 1, silent: 0, waitedMs: 0 });
    expect(fleetFailure(report).message).toBe(
      `The rollout of 1.2.0 to group ${GROUP['group-id']} is halted: halted, phase 1 of 2 (10%): ` +
        '0 verified, 1 downloaded, 1 failed, 0 silent. Failed devices: 24:0A:C4:00:00:01: ' +
        'downloaded 1.2.0, then reported 1.1.0. Nobody new gets it until POST ' +
        '/v1/ota/group/<id>/rollout/resume; abort serves the previous version again (docs/rollouts.md).',
    );
  });

  test('time runs out: timed out with what is known', async () => {
    const report: FleetReport = await waitForFleet({
      ...base,
      client: registryAnswering([rollout('running')]),
      waitMs: 12_000,
      logger: new RecordingLogger(),
      ...fakeClock(),
    });
    expect(report).toMatchObject({ outcome: 'timed-out', verified: 3, waitedMs: 12_000 });
    expect(fleetFailure(report).message).toMatch(
      /^1\.2\.0 was not verified on group \w+ within 12s: running, phase 1 of 2 \(10%\): 3 verified/,
    );
  });

  test('a device: verified when it reports the version; 203 after the start fails it', async () => {
    const device = {
      ...base,
      target: { kind: 'device' as const, id: DEVICE['device-id'], token: 't' },
    };
    const clock = fakeClock();
    const later = new Date(Date.now() + 60_000).toISOString();
    const refusedReport = await waitForFleet({
      ...device,
      client: registryAnswering([
        {
          running_version: '1.1.0',
          last_update_response: { code: 203, at: later },
          last_contact: later,
        },
      ]),
      waitMs: 60_000,
      logger: new RecordingLogger(),
      now: () => Date.now() + clock.now(),
      sleep: clock.sleep,
    });
    expect(refusedReport).toMatchObject({ outcome: 'failed', failed: 1 });
    expect(refusedReport.failures[0].reason).toBe('answered 203 (update failed); it runs 1.1.0');
    const ok = await waitForFleet({
      ...device,
      client: registryAnswering([
        { running_version: '1.1.0', last_update_response: null, last_contact: null },
        { running_version: '1.2.0', last_update_response: null, last_contact: later },
      ]),
      waitMs: 60_000,
      logger: new RecordingLogger(),
      ...fakeClock(),
    });
    expect(ok).toMatchObject({ outcome: 'verified', verified: 1, silent: 0 });
  });

  test('durations read as written', () => {
    expect([0, 12_000, 90_000, 3_600_000, 5_430_000].map(formatDuration)).toEqual([
      '0s',
      '12s',
      '1m30s',
      '1h',
      '1h30m30s',
    ]);
  });
});
