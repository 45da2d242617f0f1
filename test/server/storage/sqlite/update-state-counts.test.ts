import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../../../server/config.js';
import { createContext, type AppContext } from '../../../../server/context.js';
import { updateState } from '../../../../server/services/device-service.js';
import { UpdateStateCounter } from '../../../../server/storage/sqlite/update-state-counts.js';
import { tempDataDir, waitFor } from '../../../support/registry.js';

describe('UpdateStateCounter', () => {
  let context: AppContext;
  let owner: string;

  beforeAll(async () => {
    context = createContext(loadConfig({ data: tempDataDir() }, {}));
    owner = (await context.auth.addUser('counts@example.com', 'user', null)).user.id;
    // Every combination the rule looks at: what the device runs, what it is served itself,
    // whether it is in a group, and what that group serves.
    const groupServing = (version: string | null) => {
      const { group } = context.groups.create(owner, `serves ${version}`);
      context.db.prepare('UPDATE groups SET ota_version = ? WHERE id = ?').run(version, group.id);
      return group.id;
    };
    const groups = [null, groupServing(null), groupServing('2.0.0')];
    const setDevice = context.db.prepare(
      'UPDATE devices SET running_version = ?, ota_version = ?, group_id = ? WHERE id = ?',
    );
    for (const running of [null, '1.0.0', '2.0.0'])
      for (const own of [null, '1.0.0'])
        for (const group of groups) {
          const { device } = context.devices.create(owner, undefined);
          setDevice.run(running, own, group, device.id);
        }
  });
  afterAll(() => {
    context.db.close();
  });

  test('counts by the same rule as a device view (updateState)', async () => {
    const expected = { 'up-to-date': 0, pending: 0, unknown: 0 };
    for (const device of context.devices.all(owner)) expected[updateState(device)]++;
    expect(Object.values(expected).every((n) => n > 0)).toBe(true);

    const counter = new UpdateStateCounter(context.db.name);
    try {
      expect(await counter.counts()).toEqual(expected);
    } finally {
      await counter.stop();
    }
  });

  test('answers a count younger than maxAgeMs again, and counts anew after it', async () => {
    const counter = new UpdateStateCounter(context.db.name, { maxAgeMs: 60_000 });
    const fresh = new UpdateStateCounter(context.db.name, { maxAgeMs: 0 });
    try {
      const first = await counter.counts();
      const { device } = context.devices.create(owner, 'one more');
      expect(device.id).toBeTruthy();
      expect(await counter.counts()).toEqual(first);
      expect(await fresh.counts()).toEqual({ ...first, unknown: first.unknown + 1 });
    } finally {
      await Promise.all([counter.stop(), fresh.stop()]);
    }
  });

  test('the thread ends when idle, and a later count starts another', async () => {
    const counter = new UpdateStateCounter(context.db.name, { maxAgeMs: 0, idleMs: 50 });
    const first = await counter.counts();
    expect(counter.threadRunning).toBe(true);
    await waitFor(() => !counter.threadRunning, 'the idle thread to end');
    expect(await counter.counts()).toEqual(first);
    expect(counter.threadRunning).toBe(true);
    await counter.stop();
    expect(counter.threadRunning).toBe(false);
  });
});
