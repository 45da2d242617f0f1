import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../../../server/config.js';
import { createContext, type AppContext } from '../../../../server/context.js';
import { newObjectId, nowIso } from '../../../../server/ids.js';
import { FirmwareFiles } from '../../../../server/storage/local-files/firmware-files.js';
import type { ListQuery } from '../../../../server/storage/list-query.js';
import { DeviceStore } from '../../../../server/storage/sqlite/devices.js';
import { OtaStore } from '../../../../server/storage/sqlite/otas.js';
import { tempDataDir } from '../../../support/registry.js';

/**
 * The OTA list answers searches from the trigram index, by walking the owner's devices, or by
 * scanning (short searches): whichever it picks, the page and the counts must be exactly what
 * a literal, case-insensitive substring filter over id, name and served version gives.
 */
describe('OTA list search, whichever way it is answered', () => {
  let context: AppContext;
  let owner: string;
  const expected = new Map<
    string,
    { id: string; name: string; version: string; updated: string }
  >();

  beforeAll(async () => {
    context = createContext(loadConfig({ data: tempDataDir() }, {}));
    owner = (await context.auth.addUser('list@example.com', 'user', null)).user.id;
    const other = (await context.auth.addUser('other@example.com', 'user', null)).user.id;
    const names = [
      'Pump_House',
      'barn 50%',
      `gamma's "quote"`,
      'sensor-alpha',
      'Sensor-Beta',
      'ÄRGER 1.2.3',
    ];
    const devices = context.devices;
    const otaStore = new OtaStore(context.db);
    const deviceStore = new DeviceStore(context.db);
    let clock = Date.parse('2026-01-01T00:00:00.000Z');
    const serve = (deviceOwner: string, id: string, version: string) => {
      const at = nowIso((clock += 1000));
      const ota = {
        id: newObjectId(),
        targetKind: 'device' as const,
        targetId: id,
        owner: deviceOwner,
        version,
        path: FirmwareFiles.keyFor('device', id, version),
        size: 1,
        sha256: 'x',
        md5: 'y',
        chip: 'esp32',
        otaClient: [],
        createdAt: at,
        lastUpdated: at,
      };
      otaStore.insert(ota);
      deviceStore.setCurrent(id, ota);
      return at;
    };
    for (let i = 0; i < 240; i++) {
      const name = `${names[i % names.length]} ${i}`;
      const { device } = devices.create(owner, name);
      if (i % 7 === 3) continue; // never flashed: not in the OTA list
      const version = `${1 + (i % 3)}.${i % 5}.0${i % 11 === 0 ? '-rc.1' : ''}`;
      expected.set(device.id, {
        id: device.id,
        name,
        version,
        updated: serve(owner, device.id, version),
      });
    }
    // Another owner's devices never show up, even when they match.
    for (let i = 0; i < 20; i++)
      serve(other, devices.create(other, `sensor-alpha other ${i}`).device.id, '1.0.0');
    // Renames, re-deploys and deletes keep the index in step.
    const [first, second, third] = [...expected.keys()];
    devices.update(owner, first, { name: 'renamed Widget' });
    expected.set(first, { ...expected.get(first)!, name: 'renamed Widget' });
    expected.set(second, {
      ...expected.get(second)!,
      version: '9.9.9',
      updated: serve(owner, second, '9.9.9'),
    });
    devices.delete(owner, third);
    expected.delete(third);
  });
  afterAll(() => {
    context.db.close();
  });

  const searches = [
    '',
    'sensor',
    'SENSOR-A',
    'alpha',
    '50%',
    '%',
    '_',
    "'",
    '"quote"',
    'pump_',
    '1.2',
    '2.4.0',
    '-rc.1',
    '9.9.9',
    'widget',
    'zzz',
    'ärger',
    ' 1',
    'e',
  ];
  const queries: Array<[string, number, number, 'asc' | 'desc']> = [];
  for (const search of searches) {
    for (const [limit, offset] of [
      [10, 0],
      [1, 0],
      [50, 0],
      [5, 30],
      [1000, 0],
      [10, 500],
    ] as const) {
      queries.push([search, limit, offset, offset === 30 ? 'asc' : 'desc']);
    }
  }

  test.each(queries)('search %p, limit %p, offset %p, %s', (search, limit, offset, orderDir) => {
    const query: ListQuery = {
      search: search === '' ? null : search.toLowerCase(),
      limit,
      offset,
      orderDir,
    };
    const page = context.ota.listCurrent(owner, query);
    const needle = search.toLowerCase();
    const matching = [...expected.values()]
      .filter((d) =>
        [d.id, d.name.toLowerCase(), d.version.toLowerCase()].some((field) =>
          field.includes(needle),
        ),
      )
      .sort((a, b) =>
        a.updated < b.updated ? -1 : a.updated > b.updated ? 1 : a.id < b.id ? -1 : 1,
      );
    if (orderDir === 'desc') matching.reverse();
    expect(page.total).toBe(expected.size);
    expect(page.filtered).toBe(matching.length);
    expect(page.rows.map((row) => [row.targetId, row.version])).toEqual(
      matching.slice(offset, offset + limit).map((d) => [d.id, d.version]),
    );
  });
});

describe('a remembered search count', () => {
  test('is forgotten when this process or another one on the same data commits', async () => {
    const dataDir = tempDataDir();
    const server = createContext(loadConfig({ data: dataDir }, {}));
    const operator = createContext(loadConfig({ data: dataDir }, {}));
    try {
      const { user } = await server.auth.addUser('cache@example.com', 'user', null);
      const serve = (context: AppContext, id: string, version: string) => {
        const at = nowIso();
        const ota = {
          id: newObjectId(),
          targetKind: 'device' as const,
          targetId: id,
          owner: user.id,
          version,
          path: FirmwareFiles.keyFor('device', id, version),
          size: 1,
          sha256: 'x',
          md5: 'y',
          chip: null,
          otaClient: null,
          createdAt: at,
          lastUpdated: at,
        };
        new OtaStore(context.db).insert(ota);
        new DeviceStore(context.db).setCurrent(id, ota);
      };
      const query: ListQuery = { search: 'kiosk', limit: 10, offset: 0, orderDir: 'desc' };
      const count = () => server.ota.listCurrent(user.id, query).filtered;

      serve(server, server.devices.create(user.id, 'kiosk one').device.id, '1.0.0');
      expect(count()).toBe(1);
      expect(count()).toBe(1);
      // A write by this connection.
      serve(server, server.devices.create(user.id, 'kiosk two').device.id, '1.0.0');
      expect(count()).toBe(2);
      // A write by another connection (the operator CLI, another worker).
      const third = operator.devices.create(user.id, 'kiosk three').device.id;
      serve(operator, third, '1.0.0');
      expect(count()).toBe(3);
      operator.devices.update(user.id, third, { name: 'lobby' });
      expect(count()).toBe(2);
    } finally {
      server.db.close();
      operator.db.close();
    }
  });
});
