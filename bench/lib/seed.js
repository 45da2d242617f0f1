// @ts-check
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../build/server/config.js';
import { createContext } from '../../build/server/context.js';
import { newObjectId, nowIso } from '../../build/server/ids.js';
import { DeviceStore } from '../../build/server/storage/sqlite/devices.js';
import { FirmwareFiles } from '../../build/server/storage/local-files/firmware-files.js';
import { OtaStore } from '../../build/server/storage/sqlite/otas.js';

const OWNER_EMAIL = 'bench@example.com';
const BATCH = 2000;

/**
 * The registry's services over a data directory (and PostgreSQL at `database`, when given),
 * typed from the sources (the compiled build this runs carries no types).
 *
 * @param {string} dataDir
 * @param {string} [database]
 * @returns {import('../../server/context.js').AppContext}
 */
const open = (dataDir, database) =>
  /** @type {import('../../server/context.js').AppContext} */ (
    /** @type {unknown} */ (createContext(loadConfig({ data: dataDir, database }, {})))
  );

/**
 * Fills a data directory the way months of use would: one owner, `devices` devices named
 * `sensor-000000`..., each with `versions` kept versions (1.0.0 ... current last). Goes through
 * the registry's own services and stores in large transactions rather than HTTP, so 100,000
 * devices take seconds. Every version's file is a hard link to one copy of `firmware` (a new
 * copy whenever the file system's link limit is reached), so the disk holds the bytes once.
 *
 * Returns the owner's API key, every device's id, and the tokens of the first `keepTokens`
 * devices (what download scenarios need).
 *
 * @param {string} dataDir
 * `mqttUser`: the owner's MQTT user name (the MQTT phase), returned as given. `database`: the
 * metadata goes to this PostgreSQL database instead of the data directory's SQLite (the same
 * stores, one round trip per statement: fine for hundreds of devices, slow for 100,000).
 *
 * @param {{ devices: number, versions: number, firmware: Buffer, keepTokens?: number,
 *   mqttUser?: string, database?: string }} options
 */
export async function seedRegistry(
  dataDir,
  { devices, versions, firmware, keepTokens = 100, mqttUser, database },
) {
  const context = open(dataDir, database);
  try {
    const deviceStore = new DeviceStore(context.db);
    const otaStore = new OtaStore(context.db);
    const { user, apiKey } = await context.auth.addUser(
      OWNER_EMAIL,
      'admin',
      null,
      mqttUser ?? null,
    );
    const sha256 = createHash('sha256').update(firmware).digest('hex');
    const md5 = createHash('md5').update(firmware).digest('hex');
    const links = new LinkSource(path.join(dataDir, 'seed-source'), firmware);
    fs.mkdirSync(path.join(dataDir, 'ota/device'), { recursive: true });
    const start = Date.now() - devices * versions * 1000;
    /** @type {string[]} */
    const ids = [];
    /** @type {{ id: string, token: string }[]} */
    const withTokens = [];

    const seedBatch = context.db.transaction((from, to) => {
      for (let i = from; i < to; i++) {
        const name = `sensor-${String(i).padStart(6, '0')}`;
        const { device, token } = context.devices.create(user.id, name);
        ids.push(device.id);
        fs.mkdirSync(path.join(dataDir, 'ota/device', device.id));
        if (i < keepTokens) withTokens.push({ id: device.id, token });
        for (let v = 0; v < versions; v++) {
          const version = `1.0.${v}`;
          const key = FirmwareFiles.keyFor('device', device.id, version);
          links.linkTo(path.join(dataDir, key));
          const at = nowIso(start + (i * versions + v) * 1000);
          const ota = {
            id: newObjectId(),
            targetKind: 'device',
            targetId: device.id,
            owner: user.id,
            version,
            path: key,
            size: firmware.length,
            sha256,
            md5,
            chip: 'esp32',
            createdAt: at,
            lastUpdated: at,
          };
          otaStore.insert(ota);
          if (v === versions - 1) deviceStore.setCurrent(device.id, ota);
        }
      }
    });
    for (let from = 0; from < devices; from += BATCH)
      seedBatch(from, Math.min(devices, from + BATCH));
    context.sqlite?.pragma('wal_checkpoint(TRUNCATE)');
    return {
      apiKey,
      ownerId: user.id,
      ids,
      devices: withTokens,
      currentVersion: `1.0.${versions - 1}`,
      firmwareSha256: sha256,
      firmwareMd5: md5,
      mqttUser,
    };
  } finally {
    await context.counting.stop();
    context.db.close();
  }
}

/**
 * How many devices of the data directory have a running version from an MQTT report (after
 * the registry that recorded them stopped).
 *
 * @param {string} dataDir
 */
export function countMqttReports(dataDir) {
  const context = open(dataDir);
  try {
    const row = context.db
      .prepare("SELECT count(*) AS n FROM devices WHERE running_version_source = 'mqtt'")
      .get();
    return /** @type {{ n: number }} */ (row).n;
  } finally {
    context.db.close();
  }
}

/** Hard links to one file, starting a new copy when the link count limit (EMLINK) is hit. */
class LinkSource {
  /**
   * @param {string} dir
   * @param {Buffer} bytes
   */
  constructor(dir, bytes) {
    this.dir = dir;
    this.bytes = bytes;
    this.copies = 0;
    fs.mkdirSync(dir, { recursive: true });
    this.current = this.newCopy();
  }

  newCopy() {
    const file = path.join(this.dir, `firmware-${this.copies++}.bin`);
    fs.writeFileSync(file, this.bytes);
    return file;
  }

  /** @param {string} target a path whose parent's parent exists */
  linkTo(target) {
    fs.mkdirSync(path.dirname(target));
    try {
      fs.linkSync(this.current, target);
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EMLINK') throw err;
      this.current = this.newCopy();
      fs.linkSync(this.current, target);
    }
  }
}
