import type { Config } from './config.js';
import { AuthService } from './services/auth-service.js';
import { DeviceService } from './services/device-service.js';
import { OtaService } from './services/ota-service.js';
import { openDatabase, type Db } from './storage/database.js';
import { DeviceStore } from './storage/devices.js';
import { FirmwareFiles } from './storage/firmware-files.js';
import { OtaStore } from './storage/otas.js';
import { TokenStore } from './storage/tokens.js';
import { UserStore } from './storage/users.js';

/** What handlers and commands get: the configuration and the services over one database. */
export interface AppContext {
  config: Config;
  db: Db;
  files: FirmwareFiles;
  auth: AuthService;
  devices: DeviceService;
  ota: OtaService;
}

/** Opens the data directory (running migrations) and wires the services. */
export function createContext(config: Config): AppContext {
  const db = openDatabase(config.dataDir);
  const files = new FirmwareFiles(config.dataDir);
  const deviceStore = new DeviceStore(db);
  const otaStore = new OtaStore(db);
  const auth = new AuthService(new UserStore(db), new TokenStore(db));
  const devices = new DeviceService(db, deviceStore, otaStore, files);
  const ota = new OtaService(db, deviceStore, otaStore, files, devices, config.historyDepth);
  return { config, db, files, auth, devices, ota };
}
