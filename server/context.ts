import type { Config } from './config.js';
import { IOTAAP_OS_TOPICS } from './mqtt/topics.js';
import { AuthService } from './services/auth-service.js';
import { CheckinRecorder } from './services/checkin-recorder.js';
import { DeviceService } from './services/device-service.js';
import { RegistryMetrics } from './metrics/registry-metrics.js';
import { GroupService } from './services/group-service.js';
import { LoginThrottle } from './services/login-throttle.js';
import { OtaService } from './services/ota-service.js';
import { CheckinStore } from './storage/sqlite/checkins.js';
import { CountingThread } from './storage/sqlite/counting-thread.js';
import { openDatabase, type Db, type SqliteDb } from './storage/sqlite/database.js';
import type { Counting } from './storage/counting.js';
import { openPostgres } from './storage/postgres/migrations.js';
import { PgCounting } from './storage/postgres/pg-counting.js';
import { ServedCache, useServedCache } from './storage/postgres/served-cache.js';
import { DeviceStore } from './storage/sqlite/devices.js';
import { keepDataDirPrivate } from './storage/file-modes.js';
import { FirmwareFiles } from './storage/local-files/firmware-files.js';
import type { FirmwareStore } from './storage/firmware-store.js';
import { S3FirmwareStore } from './storage/s3/s3-firmware-store.js';
import { GroupStore } from './storage/sqlite/groups.js';
import { LoginFailureStore } from './storage/sqlite/login-failures.js';
import { OtaStore } from './storage/sqlite/otas.js';
import { TokenStore } from './storage/sqlite/tokens.js';
import { UserStore } from './storage/sqlite/users.js';
import { DeviceReportRecorder } from './services/device-reports.js';
import { PushService } from './services/push-service.js';
import { MqttClientLink } from './mqtt/mqtt-client-link.js';
import { DeviceReportStore } from './storage/sqlite/device-reports.js';
import { RolloutService, logTriggerFailure } from './services/rollout-service.js';
import { RolloutStore } from './storage/sqlite/rollouts.js';

/** What handlers and commands get: the configuration and the services over one database. */
export interface AppContext {
  config: Config;
  /** The metadata: SQLite in the data directory, or PostgreSQL (`--database`). */
  db: Db;
  /** The same database when it is SQLite, for what only SQLite has (checkpoints, backups). */
  sqlite: SqliteDb | null;
  /** PostgreSQL: what polls read, remembered by this process; close() it. */
  servedCache: ServedCache | null;
  /** Firmware bytes: files in the data directory, or an S3 bucket (`--storage`). */
  files: FirmwareStore;
  auth: AuthService;
  devices: DeviceService;
  groups: GroupService;
  ota: OtaService;
  /** Staged rollouts of groups' versions. */
  rollouts: RolloutService;
  /** Buffers device check-ins; flush (or close) it before closing the database. */
  checkins: CheckinRecorder;
  /** Triggers over MQTT; connected to the broker when `--mqtt` is set. */
  push: PushService;
  /** Buffers what devices say over MQTT, like checkins. */
  reports: DeviceReportRecorder;
  metrics: RegistryMetrics;
  /** Whole-fleet counts (`ota_devices`, the fleet summary) off the event loop; stop() it. */
  counting: Counting;
}

/** Opens the database (running migrations) and the firmware store, and wires the services. */
export function createContext(
  config: Config,
  { serving = true }: { serving?: boolean } = {},
): AppContext {
  const sqlite = config.database ? null : openDatabase(config.dataDir);
  const postgres = sqlite ? null : openPostgres(config.database!.url);
  const db: Db = sqlite ?? postgres!;
  // Before the stores are made: they find the cache by the database. Operator commands serve
  // no polls and need none.
  const servedCache =
    config.database && serving ? new ServedCache(config.database.url).start() : null;
  if (servedCache) useServedCache(db, servedCache);
  const deviceStore = new DeviceStore(db);
  const groupStore = new GroupStore(db);
  const otaStore = new OtaStore(db);
  const files: FirmwareStore = config.storage
    ? new S3FirmwareStore(config.storage, config.dataDir, {
        isReferenced: (sha256) => otaStore.hasBytes(sha256),
        ...(postgres ? { exclusive: (task) => postgres.whileOthersCannotCommit(task) } : {}),
      })
    : new FirmwareFiles(config.dataDir);
  keepDataDirPrivate(config.dataDir);
  const checkins = new CheckinRecorder(db, new CheckinStore(db));
  const throttle = new LoginThrottle(new LoginFailureStore(db));
  const auth = new AuthService(new UserStore(db), new TokenStore(db), throttle);
  const reports = new DeviceReportRecorder(db, new DeviceReportStore(db), topics(config));
  const devices = new DeviceService(
    db,
    deviceStore,
    otaStore,
    files,
    groupStore,
    checkins,
    reports,
  );
  const groups = new GroupService(db, groupStore, deviceStore, otaStore, files);
  // The link connects in the background and reconnects by itself; nothing waits for it.
  const link = config.mqtt
    ? new MqttClientLink({ url: config.mqtt.url, displayUrl: config.mqtt.displayUrl })
    : null;
  const push = new PushService(link, topics(config), deviceStore, groupStore);
  const rollouts = new RolloutService(db, new RolloutStore(db), groupStore, otaStore, {
    serve: (owner, groupId, version, force) =>
      ota.rollback(owner, 'group', groupId, version, force),
    trigger: (owner, groupId) => triggerGroup(push, users, owner, groupId),
  });
  const users = new UserStore(db);
  const ota = new OtaService(
    db,
    deviceStore,
    groupStore,
    otaStore,
    files,
    checkins,
    config.historyDepth,
    rollouts,
  );
  reports.onRecord((row) => rollouts.recordReport(row));
  const counting: Counting = sqlite
    ? new CountingThread(sqlite.name)
    : new PgCounting(config.database!.url);
  const metrics = new RegistryMetrics(counting);
  return {
    config,
    db,
    sqlite,
    servedCache,
    files,
    auth,
    devices,
    groups,
    ota,
    rollouts,
    checkins,
    push,
    reports,
    metrics,
    counting,
  };
}

/** A rollout's trigger (start, next phase): only with a broker and an account MQTT user. */
async function triggerGroup(
  push: PushService,
  users: UserStore,
  owner: string,
  groupId: string,
): Promise<void> {
  const user = users.byId(owner);
  if (!push.link || !user?.mqttUser) return;
  try {
    await push.trigger(user, 'group', groupId);
  } catch (err) {
    logTriggerFailure(groupId, err);
  }
}

const topics = (config: Config) => config.mqtt?.topics ?? IOTAAP_OS_TOPICS;
