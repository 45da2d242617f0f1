import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { md5 } from '../support/hashes.js';
import { Messages } from '../../server/errors.js';
import { bucketOf } from '../../server/services/rollout-service.js';
import {
  addGroup,
  deployTo,
  downloadPath,
  esp32UpdaterHeaders,
  setGroup,
  type IdAndToken,
} from '../support/fleet.js';
import { build } from '../support/builds.js';
import { rolloutOf } from '../support/rollout-fleet.js';
import { download, request, startRegistry, type TestRegistry } from '../support/registry.js';

/** A MAC in (or out of) a phase of `percent`, found by trying: the rule is the registry's hash. */
function macWhere(test: (bucket: number) => boolean, from = 0): string {
  for (let i = from; ; i++) {
    const mac =
      `24:0A:C4:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`.toUpperCase();
    if (test(bucketOf(mac))) return mac;
  }
}

describe('rollout API', () => {
  let registry: TestRegistry;
  let apiKey: string;
  const v1 = build('1.0.0');
  const v2 = build('1.1.0');

  beforeAll(async () => {
    registry = await startRegistry();
    apiKey = await registry.addUser();
  });
  afterAll(() => registry.close());

  const url = (group: IdAndToken, action = '') =>
    `${registry.url}/v1/ota/group/${group.id}/rollout${action}`;
  const post = (group: IdAndToken, action: string, json?: unknown) =>
    request(url(group, action), { method: 'POST', apiKey, json });

  /** A group that served 1.0.0 and keeps 1.1.0, which it serves now (no rollout). */
  async function groupWithTwoVersions(): Promise<IdAndToken> {
    const group = await addGroup(registry, apiKey);
    await deployTo(registry, apiKey, 'group', group, '1.0.0', v1);
    await deployTo(registry, apiKey, 'group', group, '1.1.0', v2);
    return group;
  }

  /** What a stock updater running `image` with `mac` gets from the group's download URL. */
  const poll = (group: IdAndToken, image: Buffer, mac?: string) =>
    download(`${registry.url}${downloadPath('group', group)}`, {
      ...esp32UpdaterHeaders({ md5: md5(image) }),
      ...(mac ? { 'x-ESP32-STA-MAC': mac } : { 'x-ESP32-STA-MAC': '' }),
    });

  test('404 No rollout; validation; 201 with the rollout; 409 while it is open', async () => {
    const group = await groupWithTwoVersions();
    expect(await request(url(group), { apiKey })).toMatchObject({
      status: 404,
      body: { message: Messages.noRollout },
    });
    expect((await post(group, '', { phases: [5, 25] })).body).toEqual({
      message: Messages.mandatoryField('version'),
    });
    for (const phases of [[5, 25], [25, 5, 100], [0, 100], [5.5, 100], '5,x,100', []]) {
      expect(await post(group, '', { version: '1.1.0', phases })).toMatchObject({
        status: 400,
        body: { message: Messages.rolloutPhasesInvalid },
      });
    }
    expect(
      (await post(group, '', { version: '1.1.0', phases: [5, 100], advance: 'sometimes' })).status,
    ).toBe(400);
    expect((await post(group, '', { version: '9.9.9', phases: [100] })).status).toBe(404);

    const started = await post(group, '', { version: '1.1.0', phases: [5, 25, 100] });
    expect(started).toMatchObject({
      status: 201,
      body: {
        version: '1.1.0',
        previous_version: '1.0.0',
        phases: [5, 25, 100],
        phase: 0,
        state: 'running',
        advance: 'manual',
        advance_at: 90,
        halt_after_failures: 1,
        devices: { in_phase: 0, downloaded: 0, verified: 0, failed: 0 },
        failures: [],
      },
    });
    expect(await post(group, '', { version: '1.1.0', phases: [100] })).toMatchObject({
      status: 409,
      body: { message: Messages.rolloutRunning },
    });
    // An upload would change what the rollout serves: refused while it is open.
    const upload = await deployTo(registry, apiKey, 'group', group, '1.2.0', build('1.2.0'));
    expect(upload).toMatchObject({ status: 409, body: { message: Messages.rolloutRunning } });
  });

  test('pause, resume, advance and abort move the state; others are refused with 409', async () => {
    const group = await groupWithTwoVersions();
    // Rolling out the version served before (1.0.0) is a rollout too: previous is then 1.1.0.
    expect((await post(group, '', { version: '1.0.0', phases: [50, 100] })).body).toMatchObject({
      version: '1.0.0',
      previous_version: '1.1.0',
    });
    expect((await request(`${registry.url}/v1/ota/group/latest/${group.id}`)).body).toEqual({
      ver: '1.0.0',
    });
    expect((await post(group, '/resume')).status).toBe(409);
    expect((await post(group, '/pause')).body).toMatchObject({ state: 'paused' });
    expect((await post(group, '/pause')).body).toEqual({
      message: Messages.rolloutNotIn('pause', 'paused'),
    });
    expect((await post(group, '/resume')).body).toMatchObject({ state: 'running' });
    expect((await post(group, '/advance')).body).toMatchObject({ phase: 1, state: 'running' });
    expect((await post(group, '/advance')).body).toMatchObject({ phase: 1, state: 'completed' });
    expect((await post(group, '/abort')).body).toEqual({
      message: Messages.rolloutNotIn('abort', 'completed'),
    });
    expect((await post(group, '/jump')).status).toBe(404);
    // Another owner sees no such group.
    const other = await registry.addUser();
    expect(await request(url(group), { apiKey: other })).toMatchObject({
      status: 404,
      body: { message: Messages.noSuchGroup },
    });
  });

  test('uploads: rollout=… starts one; no previous version, or a device upload, is refused', async () => {
    const fresh = await addGroup(registry, apiKey);
    expect(
      await deployTo(registry, apiKey, 'group', fresh, '1.0.0', v1, { rollout: '5,100' }),
    ).toMatchObject({ status: 409, body: { message: Messages.rolloutNoPrevious } });
    // Nothing was deployed.
    expect((await request(`${registry.url}/v1/ota/group/latest/${fresh.id}`)).status).toBe(404);
    expect(
      await deployTo(registry, apiKey, 'group', fresh, '1.0.0', v1, { rollout: '5,50' }),
    ).toMatchObject({ status: 400, body: { message: Messages.rolloutPhasesInvalid } });

    const device = await registry.addDevice(apiKey);
    expect(
      await deployTo(registry, apiKey, 'device', device, '1.0.0', v1, { rollout: '5,100' }),
    ).toMatchObject({ status: 400, body: { message: Messages.rolloutGroupsOnly } });

    await deployTo(registry, apiKey, 'group', fresh, '1.0.0', v1);
    const res = await deployTo(registry, apiKey, 'group', fresh, '1.1.0', v2, {
      rollout: '5,25,100',
      rollout_advance: 'auto',
      rollout_advance_at: '80',
      rollout_halt_after_failures: '3',
    });
    expect(res).toMatchObject({
      status: 201,
      body: {
        rollout: {
          version: '1.1.0',
          previous_version: '1.0.0',
          advance: 'auto',
          advance_at: 80,
          halt_after_failures: 3,
        },
      },
    });
  });

  test('downloads: in the phase the new version, out of it the previous (304 for its MD5)', async () => {
    const group = await groupWithTwoVersions();
    await post(group, '', { version: '1.1.0', phases: [20, 100] });
    const inside = macWhere((bucket) => bucket < 2000);
    const outside = macWhere((bucket) => bucket >= 2000);

    const out = await poll(group, v1, outside);
    expect(out.status).toBe(304);
    const got = await poll(group, v1, inside);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(v2)).toBe(true);
    // No MAC: the device cannot be placed, and is out until the last phase.
    expect((await poll(group, v1)).status).toBe(304);
    // HEAD counts no download.
    const head = await fetch(`${registry.url}${downloadPath('group', group)}`, {
      method: 'HEAD',
      headers: { ...esp32UpdaterHeaders({ md5: md5(v1) }), 'x-ESP32-STA-MAC': inside },
    });
    expect(head.status).toBe(200);
    expect((await rolloutOf(registry, apiKey, group.id)).devices).toMatchObject({
      downloaded: 1,
      verified: 0,
    });
    const back = await poll(group, v2, inside);
    expect(back.status).toBe(304);
    expect((await rolloutOf(registry, apiKey, group.id)).devices).toMatchObject({
      downloaded: 1,
      verified: 1,
    });
    await post(group, '/advance');
    expect((await poll(group, v1)).status).toBe(200);
    expect((await poll(group, v1, outside)).status).toBe(200);
  });

  test('halted: nobody new gets it; a device that took it keeps it; resume offers it again', async () => {
    const group = await groupWithTwoVersions();
    await post(group, '', { version: '1.1.0', phases: [50, 100], halt_after_failures: 1 });
    const a = macWhere((bucket) => bucket < 5000);
    const b = macWhere((bucket) => bucket < 5000, 1000);
    const c = macWhere((bucket) => bucket < 5000, 2000);
    expect((await poll(group, v1, a)).status).toBe(200);
    expect((await poll(group, v1, b)).status).toBe(200);
    // b rolled back: it asks again with 1.0.0's MD5.
    expect((await poll(group, v1, b)).status).toBe(304);
    const halted = await rolloutOf(registry, apiKey, group.id);
    expect(halted).toMatchObject({ state: 'halted', devices: { failed: 1 } });
    expect(halted.failures[0]).toMatchObject({
      device: b,
      reason: 'downloaded 1.1.0, then reported 1.0.0 (rolled back, or it never booted it)',
    });
    // c is in the phase but new: not offered. a took it and runs it: 304, not a downgrade.
    expect((await poll(group, v1, c)).status).toBe(304);
    expect((await poll(group, v2, a)).status).toBe(304);
    expect((await post(group, '/advance')).status).toBe(409);
    expect((await post(group, '/resume')).body).toMatchObject({ state: 'running' });
    expect((await poll(group, v1, c)).status).toBe(200);
    // The failed device stays out: offering it again would loop (download, roll back).
    expect((await poll(group, v1, b)).status).toBe(304);
  });

  test('MQTT reports verify and fail devices whose MAC the registry knows', async () => {
    const mqttUser = `rollout-api-${process.pid}`;
    await request(`${registry.url}/v1/account`, {
      method: 'PUT',
      apiKey,
      json: { mqtt_user: mqttUser },
    });
    const group = await groupWithTwoVersions();
    const members: Array<IdAndToken & { mac: string }> = [];
    for (let i = 0; i < 3; i++) {
      const device = await registry.addDevice(apiKey);
      const mac = macWhere((bucket) => bucket < 5000, 3000 + i * 500);
      // Its own download URL tells the registry its MAC (a check-in).
      await deployTo(registry, apiKey, 'device', device, '1.0.0', v1);
      await download(`${registry.url}${downloadPath('device', device)}`, {
        ...esp32UpdaterHeaders({ md5: md5(v1), mac }),
      });
      members.push({ ...device, mac });
    }
    registry.context.checkins.flush();
    for (const member of members) await setGroup(registry, apiKey, member.id, group.id);

    await post(group, '', { version: '1.1.0', phases: [50, 100], halt_after_failures: 2 });
    expect((await rolloutOf(registry, apiKey, group.id)).devices.in_phase).toBe(3);
    for (const member of members) expect((await poll(group, v1, member.mac)).status).toBe(200);

    const say = (deviceId: string, kind: 'status' | 'update-response', body: unknown) =>
      registry.context.reports.receive(
        `/${mqttUser}/devices/${deviceId}/${kind}`,
        Buffer.from(JSON.stringify(body)),
      );
    const [ok, rolledBack, refused] = members;
    say(ok.id, 'status', { fw_version: '1.1.0', uptime: 1 });
    // Uptime says it booted before the download: still flashing, not a failure yet.
    say(rolledBack.id, 'status', { fw_version: '1.0.0', uptime: 3600 });
    say(refused.id, 'update-response', { code: 203 });
    registry.context.reports.flush();
    let rollout = await rolloutOf(registry, apiKey, group.id);
    expect(rollout.devices).toMatchObject({ verified: 1, failed: 1 });
    expect(rollout.failures).toEqual([
      {
        device: refused.id,
        reason: 'answered 203 (update failed) after downloading 1.1.0',
        at: expect.any(String),
      },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    say(rolledBack.id, 'status', { fw_version: '1.0.0', uptime: 0 });
    registry.context.reports.flush();
    rollout = await rolloutOf(registry, apiKey, group.id);
    expect(rollout).toMatchObject({ state: 'halted', devices: { failed: 2 } });
    expect(rollout.failures[1]).toMatchObject({
      device: rolledBack.id,
      reason: 'downloaded 1.1.0, then reported 1.0.0 after a reboot (rolled back)',
    });
  });

  test('a re-run of the job follows its rollout; a rollback waits for the rollout to end', async () => {
    const group = await addGroup(registry, apiKey);
    await deployTo(registry, apiKey, 'group', group, '1.0.0', v1);
    const first = await deployTo(registry, apiKey, 'group', group, '1.1.0', v2, {
      rollout: '50,100',
    });
    expect(first.status).toBe(201);
    const again = await deployTo(registry, apiKey, 'group', group, '1.1.0', v2, {
      rollout: '50,100',
    });
    expect(again).toMatchObject({
      status: 200,
      body: {
        rollout: {
          version: '1.1.0',
          state: 'running',
          created_at: (first.body as { rollout: { created_at: string } }).rollout.created_at,
        },
      },
    });
    // Other bytes under the rollout's version: refused as always.
    expect((await deployTo(registry, apiKey, 'group', group, '1.1.0', build('other'))).status).toBe(
      409,
    );
    const rollback = await request(`${registry.url}/v1/ota/group/${group.id}/rollback`, {
      method: 'POST',
      apiKey,
      json: { version: '1.0.0' },
    });
    expect(rollback).toMatchObject({ status: 409, body: { message: Messages.rolloutRunning } });
    // A device that failed on the way but runs the new version now is never downgraded.
    const mac = macWhere((bucket) => bucket < 5000);
    expect((await poll(group, v1, mac)).status).toBe(200);
    expect((await poll(group, v1, mac)).status).toBe(304);
    expect((await rolloutOf(registry, apiKey, group.id)).state).toBe('halted');
    expect((await poll(group, v2, mac)).status).toBe(304);
  });

  test('deleting the group deletes its rollouts', async () => {
    const group = await groupWithTwoVersions();
    await post(group, '', { version: '1.1.0', phases: [100] });
    expect(
      (await request(`${registry.url}/v1/groups/${group.id}`, { method: 'DELETE', apiKey })).status,
    ).toBe(200);
    const left = registry.context.db
      .prepare('SELECT count(*) AS n FROM rollouts WHERE group_id = ?')
      .get(group.id) as { n: number };
    expect(left.n).toBe(0);
  });
});
