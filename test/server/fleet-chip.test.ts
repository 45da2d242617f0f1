import { describe, expect, test } from '@jest/globals';
import { Messages } from '../../server/errors.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { addGroup, deployTo, setGroup } from '../support/fleet.js';
import { describeIfFixtures, readFixture } from '../support/fixtures.js';
import { request, startRegistryPerFile, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
let apiKey: string;
startRegistryPerFile((started, key) => ([registry, apiKey] = [started, key]));

const view = async (path: string) => (await request(`${registry.url}${path}`, { apiKey })).body;

describeIfFixtures('chip guard with real images', () => {
  const esp32 = () => readFixture('esp32-arduino-tamapetchi.bin');
  const s3 = () => readFixture('esp32s3-arduino-explora-gateway.bin');

  test('a device that runs the ESP32 image refuses the S3 image with 409 naming both, and takes it with force=true', async () => {
    const device = await registry.addDevice(apiKey);
    expect(await deployTo(registry, apiKey, 'device', device, '1.0.0', esp32())).toMatchObject({
      status: 201,
      body: { ota: { chip: 'esp32' } },
    });
    expect(await view(`/v1/devices/${device.id}`)).toMatchObject({ chip: 'esp32' });

    const refused = await deployTo(registry, apiKey, 'device', device, '1.1.0', s3());
    expect(refused).toMatchObject({
      status: 409,
      body: { message: Messages.chipMismatch('device', 'ESP32', 'ESP32-S3') },
    });
    expect((await request(`${registry.url}/v1/ota/device/latest/${device.id}`)).body).toEqual({
      ver: '1.0.0',
    });
    expect(
      await deployTo(registry, apiKey, 'device', device, '1.1.0', s3(), { force: 'yes' }),
    ).toMatchObject({ status: 400, body: { message: Messages.forceInvalid } });

    const forced = await deployTo(registry, apiKey, 'device', device, '1.1.0', s3(), {
      force: 'true',
    });
    expect(forced).toMatchObject({ status: 201, body: { ota: { chip: 'esp32s3' } } });
    expect(await view(`/v1/devices/${device.id}`)).toMatchObject({ chip: 'esp32s3' });
    const list = (await view('/v1/ota/device')) as { otas: Array<Record<string, unknown>> };
    expect(list.otas.find((row) => row.device === device.id)).toMatchObject({ chip: 'esp32s3' });
  });

  test('a chip given at creation guards the first upload; a group learns its chip too', async () => {
    const created = await request(`${registry.url}/v1/devices`, {
      method: 'POST',
      apiKey,
      json: { name: 'gateway', chip: 'ESP32-S3' },
    });
    expect(created).toMatchObject({ status: 201, body: { chip: 'esp32s3' } });
    const device = {
      id: (created.body as { _id: string })._id,
      token: (created.body as { token: string }).token,
    };
    expect(await deployTo(registry, apiKey, 'device', device, '1.0.0', esp32())).toMatchObject({
      status: 409,
      body: { message: Messages.chipMismatch('device', 'ESP32-S3', 'ESP32') },
    });
    expect((await deployTo(registry, apiKey, 'device', device, '1.0.0', s3())).status).toBe(201);

    const group = await addGroup(registry, apiKey);
    expect((await deployTo(registry, apiKey, 'group', group, '1.0.0', esp32())).status).toBe(201);
    expect(await deployTo(registry, apiKey, 'group', group, '1.0.1', s3())).toMatchObject({
      status: 409,
      body: { message: Messages.chipMismatch('group', 'ESP32', 'ESP32-S3') },
    });
    // The S3 device does not join a group that serves ESP32 firmware, unless forced.
    expect(await setGroup(registry, apiKey, device.id, group.id)).toMatchObject({
      status: 409,
      body: { message: Messages.chipMismatchJoin('ESP32-S3', 'ESP32') },
    });
    expect((await setGroup(registry, apiKey, device.id, group.id, { force: true })).status).toBe(
      200,
    );
  });

  test('the ESP8266 image is recognised as ESP8266', async () => {
    const device = await registry.addDevice(apiKey);
    const res = await deployTo(
      registry,
      apiKey,
      'device',
      device,
      '1.6.2',
      readFixture('esp8266-arduino-milight-hub.bin'),
    );
    expect(res).toMatchObject({ status: 201, body: { ota: { chip: 'esp8266' } } });
    expect(await view(`/v1/devices/${device.id}`)).toMatchObject({ chip: 'esp8266' });
    expect(await deployTo(registry, apiKey, 'device', device, '2.0.0', esp32())).toMatchObject({
      status: 409,
      body: { message: Messages.chipMismatch('device', 'ESP8266', 'ESP32') },
    });
  });
});

describe('chip guard with generated images', () => {
  test('C3 after ESP32 is refused; an unknown chip at creation is 400', async () => {
    const device = await registry.addDevice(apiKey);
    await deployTo(registry, apiKey, 'device', device, '1.0.0', generateEspImage({ seed: 50 }));
    expect(
      await deployTo(
        registry,
        apiKey,
        'device',
        device,
        '1.0.1',
        generateEspImage({ chip: 'esp32c3', seed: 51 }),
      ),
    ).toMatchObject({
      status: 409,
      body: { message: Messages.chipMismatch('device', 'ESP32', 'ESP32-C3') },
    });
    expect(
      await request(`${registry.url}/v1/devices`, {
        method: 'POST',
        apiKey,
        json: { chip: 'esp33' },
      }),
    ).toMatchObject({ status: 400, body: { message: Messages.chipInvalid('esp33') } });
  });

  test('rollback to a kept version of another chip is guarded too', async () => {
    const device = await registry.addDevice(apiKey);
    await deployTo(registry, apiKey, 'device', device, '1.0.0', generateEspImage({ seed: 52 }));
    await deployTo(
      registry,
      apiKey,
      'device',
      device,
      '2.0.0',
      generateEspImage({ chip: 'esp32s3', seed: 53 }),
      { force: 'true' },
    );
    const url = `${registry.url}/v1/ota/device/${device.id}/rollback`;
    expect(
      await request(url, { method: 'POST', apiKey, json: { version: '1.0.0' } }),
    ).toMatchObject({
      status: 409,
      body: { message: Messages.chipMismatch('device', 'ESP32-S3', 'ESP32') },
    });
    expect(
      (await request(url, { method: 'POST', apiKey, json: { version: '1.0.0', force: true } }))
        .status,
    ).toBe(200);
  });
});
