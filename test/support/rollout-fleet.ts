import { boots, build } from './builds.js';
import { addGroup, deployTo, downloadPath, setGroup, type IdAndToken } from './fleet.js';
import { ArduinoUpdaterDevice } from './arduino-updater-device.js';
import { request, type TestRegistry } from './registry.js';

export interface Fleet {
  group: IdAndToken;
  devices: ArduinoUpdaterDevice[];
  /** Every device polls once, all at the same time. */
  round(): Promise<void>;
}

/**
 * A group served `version`, with `size` registered member devices that run it: stock Arduino
 * updaters polling the group's download URL (their MACs are new to the registry).
 */
export async function arduinoFleet(
  registry: TestRegistry,
  apiKey: string,
  size: number,
  version: string,
): Promise<Fleet> {
  const group = await addGroup(registry, apiKey);
  const image = build(version);
  const deployed = await deployTo(registry, apiKey, 'group', group, version, image);
  if (deployed.status !== 201) throw new Error(`deploy: ${JSON.stringify(deployed.body)}`);
  const devices: ArduinoUpdaterDevice[] = [];
  for (let i = 0; i < size; i++) {
    const { id } = await registry.addDevice(apiKey);
    await setGroup(registry, apiKey, id, group.id);
    devices.push(
      new ArduinoUpdaterDevice({
        baseUrl: registry.url,
        downloadPath: downloadPath('group', group),
        image,
        name: id,
        boots,
      }),
    );
  }
  return {
    group,
    devices,
    round: async () => {
      await Promise.all(devices.map((device) => device.poll()));
    },
  };
}

/** GET /v1/ota/group/{id}/rollout. */
export async function rolloutOf(
  registry: TestRegistry,
  apiKey: string,
  groupId: string,
): Promise<RolloutBody> {
  const res = await request(`${registry.url}/v1/ota/group/${groupId}/rollout`, { apiKey });
  if (res.status !== 200) throw new Error(`rollout: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as RolloutBody;
}

export interface RolloutBody {
  version: string;
  previous_version: string;
  phases: number[];
  phase: number;
  state: string;
  devices: { in_phase: number; downloaded: number; verified: number; failed: number };
  failures: Array<{ device: string; reason: string; at: string }>;
}
