import { describe, expect, test } from '@jest/globals';
import { OBJECT_ID } from '../../contract/ids.js';
import { addGroup, deployTo } from '../support/fleet.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { startRegistry } from '../support/registry.js';

/** How many of the ids' 24 positions hold the same character in every id. */
function sharedPositions(ids: string[]): number {
  let shared = 0;
  for (let i = 0; i < 24; i++) if (ids.every((id) => id[i] === ids[0][i])) shared++;
  return shared;
}

describe('identifiers', () => {
  test('are 24 lowercase hex, random: ids made one after another share no clock, process or counter part', async () => {
    const registry = await startRegistry();
    try {
      const apiKey = await registry.addUser();
      const devices: string[] = [];
      for (let i = 0; i < 8; i++) devices.push((await registry.addDevice(apiKey)).id);
      const groups: string[] = [];
      for (let i = 0; i < 8; i++) groups.push((await addGroup(registry, apiKey)).id);
      const records: string[] = [];
      const target = await registry.addDevice(apiKey);
      for (let i = 0; i < 8; i++) {
        const res = await deployTo(
          registry,
          apiKey,
          'device',
          target,
          `1.0.${i}`,
          generateEspImage({ seed: 400 + i, size: 4096 }),
        );
        records.push((res.body as { ota: { _id: string } }).ota._id);
      }
      const users: string[] = [];
      for (let i = 0; i < 8; i++) {
        const key = await registry.addUser();
        users.push(registry.context.auth.authenticate(key).id);
      }
      const all = [...devices, ...groups, ...records, ...users];
      for (const id of all) expect(id).toMatch(OBJECT_ID);
      expect(new Set(all).size).toBe(all.length);
      // A clock prefix (8 characters), a per-process part (10) or a counter (6) would show up as
      // positions every id shares; 8 random ids share one of 24 positions with odds of 24/16^7.
      for (const ids of [devices, groups, records, users, all])
        expect(sharedPositions(ids)).toBe(0);
      // Nor do consecutive ids count up.
      const counter = (id: string) => parseInt(id.slice(18), 16);
      expect(devices.slice(1).every((id, i) => counter(id) === counter(devices[i]) + 1)).toBe(
        false,
      );
    } finally {
      await registry.close();
    }
  });
});
