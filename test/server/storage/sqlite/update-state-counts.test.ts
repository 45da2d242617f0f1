import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../../../server/config.js';
import { createContext, type AppContext } from '../../../../server/context.js';
import { updateState } from '../../../../server/services/device-service.js';
import { CountingThread } from '../../../../server/storage/sqlite/counting-thread.js';
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

    const thread = new CountingThread(context.db.name);
    try {
      expect(await new UpdateStateCounter(thread).counts()).toEqual(expected);
    } finally {
      await thread.stop();
    }
  });

  test('answers a count younger than maxAgeMs again, and counts anew after it', async () => {
    const thread = new CountingThread(context.db.name);
    const counter = new UpdateStateCounter(thread, { maxAgeMs: 60_000 });
    const fresh = new UpdateStateCounter(thread, { maxAgeMs: 0 });
    try {
      const first = await counter.counts();
      const { device } = context.devices.create(owner, 'one more');
      expect(device.id).toBeTruthy();
      expect(await counter.counts()).toEqual(first);
      expect(await fresh.counts()).toEqual({ ...first, unknown: first.unknown + 1 });
    } finally {
      await thread.stop();
    }
  });
});

describe('CountingThread', () => {
  let context: AppContext;

  beforeAll(async () => {
    context = createContext(loadConfig({ data: tempDataDir() }, {}));
    const owner = (await context.auth.addUser('thread@example.com', 'user', null)).user.id;
    for (let i = 0; i < 3; i++) context.devices.create(owner, `device ${i}`);
  });
  afterAll(() => {
    context.db.close();
  });
  const COUNT = 'SELECT count(*) AS n FROM devices WHERE name LIKE @prefix';

  test('answers questions asked together, each with its own rows', async () => {
    const thread = new CountingThread(context.db.name);
    try {
      const answers = await Promise.all([
        thread.all<{ n: number }>(COUNT, { prefix: 'device%' }),
        thread.all<{ n: number }>('SELECT name FROM devices ORDER BY name'),
        thread.all<{ n: number }>(COUNT, { prefix: 'nothing%' }),
      ]);
      expect(answers).toEqual([
        [{ n: 3 }],
        [{ name: 'device 0' }, { name: 'device 1' }, { name: 'device 2' }],
        [{ n: 0 }],
      ]);
    } finally {
      await thread.stop();
    }
  });

  test('sees a write committed just before the question, with no cache', async () => {
    const thread = new CountingThread(context.db.name);
    try {
      const before = (await thread.all<{ n: number }>(COUNT, { prefix: '%' }))[0].n;
      const owner = context.db.prepare('SELECT owner FROM devices LIMIT 1').get() as {
        owner: string;
      };
      context.devices.create(owner.owner, 'written just now');
      expect(await thread.all(COUNT, { prefix: '%' })).toEqual([{ n: before + 1 }]);
    } finally {
      await thread.stop();
    }
  });

  test('refuses a failing question with its error and keeps answering, read-only', async () => {
    const thread = new CountingThread(context.db.name);
    try {
      await expect(thread.all('SELECT nope FROM devices')).rejects.toThrow(
        /counting devices: no such column: nope/,
      );
      await expect(thread.all('DELETE FROM devices')).rejects.toThrow(/counting devices: /);
      expect(await thread.all(COUNT, { prefix: 'device%' })).toEqual([{ n: 3 }]);
    } finally {
      await thread.stop();
    }
  });

  test('the thread ends when idle, and a later question starts another', async () => {
    const thread = new CountingThread(context.db.name, { idleMs: 50 });
    const first = await thread.all(COUNT, { prefix: '%' });
    expect(thread.threadRunning).toBe(true);
    await waitFor(() => !thread.threadRunning, 'the idle thread to end');
    expect(await thread.all(COUNT, { prefix: '%' })).toEqual(first);
    expect(thread.threadRunning).toBe(true);
    await thread.stop();
    expect(thread.threadRunning).toBe(false);
  });
});
