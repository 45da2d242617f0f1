import { describe, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import path from 'node:path';
import { Messages } from '../../server/errors.js';
import { OTA_CLIENT_MARKS } from '../../contract/ota-client.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { addGroup, deployTo, type IdAndToken, type Kind } from '../support/fleet.js';
import { describeIfFixtures, readFixture } from '../support/fixtures.js';
import {
  request,
  startRegistry,
  type Reply,
  type TestRegistry,
  startRegistryPerFile,
} from '../support/registry.js';

let registry: TestRegistry;
let apiKey: string;
startRegistryPerFile((started, key) => ([registry, apiKey] = [started, key]));

let seed = 1000;
/** A valid image with no OTA client mark, or with `mark` compiled in; distinct bytes each time. */
const image = (mark?: string) =>
  generateEspImage({ seed: ++seed, ...(mark !== undefined ? { embedString: mark } : {}) });

const target = (kind: Kind): Promise<IdAndToken> =>
  kind === 'device' ? registry.addDevice(apiKey) : addGroup(registry, apiKey);

const latest = async (kind: Kind, id: string) =>
  (await request(`${registry.url}/v1/ota/${kind}/latest/${id}`)).body;

const rollback = (kind: Kind, id: string, body: Record<string, unknown>): Promise<Reply> =>
  request(`${registry.url}/v1/ota/${kind}/${id}/rollback`, { method: 'POST', apiKey, json: body });

const history = async (kind: Kind, id: string) =>
  (
    (await request(`${registry.url}/v1/ota/${kind}/${id}/history`, { apiKey })).body as {
      history: Array<{ version: string; ota_client: unknown }>;
    }
  ).history.map(({ version, ota_client }) => ({ version, ota_client }));

const REFUSED = { status: 409, body: { message: Messages.otaClientMissing } };

describe.each(['device', 'group'] as const)('a %s', (kind) => {
  test.each(OTA_CLIENT_MARKS.map(({ mark, client }) => [mark, client]))(
    'serving an image with "%s" (%s) refuses one without a client, on upload and rollback, unless forced',
    async (mark, client) => {
      const to = await target(kind);
      expect(await deployTo(registry, apiKey, kind, to, '1.0.0', image(mark))).toMatchObject({
        status: 201,
        body: { ota: { version: '1.0.0', ota_client: [client] } },
      });

      const bare = image();
      expect(await deployTo(registry, apiKey, kind, to, '1.1.0', bare)).toMatchObject(REFUSED);
      expect(await latest(kind, to.id)).toEqual({ ver: '1.0.0' });
      expect(
        await deployTo(registry, apiKey, kind, to, '1.1.0', bare, { force: 'true' }),
      ).toMatchObject({ status: 201, body: { ota: { version: '1.1.0', ota_client: [] } } });
      expect(await latest(kind, to.id)).toEqual({ ver: '1.1.0' });

      // Back to the version with a client: nothing to guard.
      expect(await rollback(kind, to.id, { version: '1.0.0' })).toMatchObject({
        status: 200,
        body: { ota: { version: '1.0.0', ota_client: [client] } },
      });
      // And forward again to the one without: guarded as an upload is.
      expect(await rollback(kind, to.id, { version: '1.1.0' })).toMatchObject(REFUSED);
      expect(await latest(kind, to.id)).toEqual({ ver: '1.0.0' });
      expect(await rollback(kind, to.id, { version: '1.1.0', force: true })).toMatchObject({
        status: 200,
        body: { ota: { version: '1.1.0', ota_client: [] } },
      });

      expect(await history(kind, to.id)).toEqual([
        { version: '1.1.0', ota_client: [] },
        { version: '1.0.0', ota_client: [client] },
      ]);
      const list = (await request(`${registry.url}/v1/ota/${kind}`, { apiKey })).body as {
        otas: Array<Record<string, unknown>>;
      };
      expect(list.otas.find((row) => row[kind] === to.id)).toMatchObject({ ota_client: [] });
    },
  );

  test('images without a client follow each other freely, and a client may replace another', async () => {
    const to = await target(kind);
    for (const [version, bytes] of [
      ['1.0.0', image()],
      ['1.0.1', image()],
      ['1.1.0', image('/v1/ota/group/latest/')],
      ['1.2.0', image('x-ESP32-sketch-md5')],
      ['1.3.0', image('esp_https_ota')],
    ] as const) {
      expect((await deployTo(registry, apiKey, kind, to, version, bytes)).status).toBe(201);
    }
    expect((await rollback(kind, to.id, { version: '1.1.0' })).status).toBe(200);
  });

  test('re-uploading the served bytes answers 200, and a refused upload is not kept', async () => {
    const to = await target(kind);
    const withClient = image('ESP32-http-Update');
    await deployTo(registry, apiKey, kind, to, '2.0.0', withClient);
    expect(await deployTo(registry, apiKey, kind, to, '2.0.0', withClient)).toMatchObject({
      status: 200,
    });
    expect(await deployTo(registry, apiKey, kind, to, '2.0.1', image())).toMatchObject(REFUSED);
    expect(await history(kind, to.id)).toEqual([{ version: '2.0.0', ota_client: ['httpupdate'] }]);
    expect(await rollback(kind, to.id, { version: '2.0.1' })).toMatchObject({ status: 404 });
  });

  test('force must be true or false', async () => {
    const to = await target(kind);
    await deployTo(registry, apiKey, kind, to, '1.0.0', image('ESP8266-http-Update'));
    expect(
      await deployTo(registry, apiKey, kind, to, '1.0.1', image(), { force: 'please' }),
    ).toMatchObject({ status: 400, body: { message: Messages.forceInvalid } });
  });
});

describeIfFixtures('real images (they carry no client)', () => {
  test('are recorded with ota_client [] and refused after an image with a client', async () => {
    const device = await registry.addDevice(apiKey);
    const real = readFixture('esp32-arduino-tamapetchi.bin');
    expect(await deployTo(registry, apiKey, 'device', device, '1.0.0', real)).toMatchObject({
      status: 201,
      body: { ota: { ota_client: [] } },
    });
    expect(
      await deployTo(registry, apiKey, 'device', device, '1.1.0', image('/v1/ota/device/latest/')),
    ).toMatchObject({ status: 201, body: { ota: { ota_client: ['iotaap-os'] } } });
    expect(
      await deployTo(
        registry,
        apiKey,
        'device',
        device,
        '1.2.0',
        readFixture('esp32-espidf-nat-router.bin'),
      ),
    ).toMatchObject(REFUSED);
  });
});

describe('records uploaded before clients were recorded', () => {
  test('show ota_client null, never make the guard refuse, and learn it from the same bytes', async () => {
    const old = await startRegistry();
    // This takes a SQLite file back to an older schema. PostgreSQL started with migration 8's
    // schema (ota_client included), so no PostgreSQL database has such records.
    if (!old.context.sqlite) return void (await old.close());
    const key = await old.addUser();
    const targets = [
      ['device', await old.addDevice(key)],
      ['group', await addGroup(old, key)],
    ] as const;
    const withClient = image('/v1/ota/device/latest/');
    const bare = image();
    for (const [kind, to] of targets) {
      await deployTo(old, key, kind, to, '1.0.0', withClient);
      await deployTo(old, key, kind, to, '1.1.0', bare, { force: 'true' });
    }
    await old.close();
    // Take the database back to before migration 4, as an older registry left it (so without
    // what later migrations added either: they run again).
    const db = new Database(path.join(old.dataDir, 'registry.db'));
    db.exec(`
      DROP INDEX users_by_mqtt_user;
      ALTER TABLE users DROP COLUMN mqtt_user;
      ALTER TABLE devices DROP COLUMN running_version_source;
      ALTER TABLE devices DROP COLUMN uptime;
      ALTER TABLE devices DROP COLUMN update_response_code;
      ALTER TABLE devices DROP COLUMN update_response_at;
    `);
    db.exec('ALTER TABLE otas DROP COLUMN ota_client');
    db.pragma('user_version = 3');
    db.close();

    const upgraded = await startRegistry({}, old.dataDir);
    const clients = async (kind: Kind, id: string) =>
      (
        (await request(`${upgraded.url}/v1/ota/${kind}/${id}/history`, { apiKey: key })).body as {
          history: Array<{ version: string; ota_client: unknown }>;
        }
      ).history.map(({ version, ota_client }) => [version, ota_client]);
    try {
      for (const [kind, to] of targets) {
        expect(await clients(kind, to.id)).toEqual([
          ['1.1.0', null],
          ['1.0.0', null],
        ]);
        // Unknown served: an upload without a client goes through.
        expect((await deployTo(upgraded, key, kind, to, '1.2.0', image())).status).toBe(201);
        // A client is known to be served now; an unknown kept version may still come back.
        await deployTo(upgraded, key, kind, to, '1.3.0', image('esp_https_ota'));
        const back = await request(`${upgraded.url}/v1/ota/${kind}/${to.id}/rollback`, {
          method: 'POST',
          apiKey: key,
          json: { version: '1.1.0' },
        });
        expect(back).toMatchObject({ status: 200, body: { ota: { ota_client: null } } });

        // The same bytes again (a re-run of the job that built them) make the unknown known.
        expect(await deployTo(upgraded, key, kind, to, '1.1.0', bare)).toMatchObject({
          status: 200,
          body: { ota: { ota_client: [] } },
        });
        expect(await deployTo(upgraded, key, kind, to, '1.0.0', withClient)).toMatchObject({
          status: 201,
          body: { ota: { ota_client: ['iotaap-os'] } },
        });
        expect(await clients(kind, to.id)).toEqual([
          ['1.0.0', ['iotaap-os']],
          ['1.1.0', []],
          ['1.3.0', ['esp-https-ota']],
          ['1.2.0', []],
        ]);
        // Known now, so guarded again.
        const guarded = await request(`${upgraded.url}/v1/ota/${kind}/${to.id}/rollback`, {
          method: 'POST',
          apiKey: key,
          json: { version: '1.1.0' },
        });
        expect(guarded).toMatchObject(REFUSED);
      }
    } finally {
      await upgraded.close();
    }
  });
});
