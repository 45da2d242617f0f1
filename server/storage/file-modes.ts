import fs from 'node:fs';
import path from 'node:path';

/** The database, the firmware files and their directories: the registry's user only. */
export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

/**
 * Makes what is already in the data directory private. New files are created so (the database
 * by openDatabase, SQLite's -wal and -shm files copy its mode, firmware by FirmwareFiles); this
 * fixes what an older version wrote world-readable (0644/0755). The database files are checked
 * at every start; the firmware tree is walked only while the data directory itself is not yet
 * private, which this function makes it last, so a fleet's thousands of files are walked once.
 */
export function keepDataDirPrivate(dataDir: string): void {
  const walkFirmware = (fs.statSync(dataDir).mode & 0o077) !== 0;
  for (const name of fs.readdirSync(dataDir)) {
    const entry = path.join(dataDir, name);
    if (name.startsWith('registry.db')) restrict(entry, false);
    else if (walkFirmware && (name === 'ota' || name === 'tmp')) restrict(entry, true);
  }
  fs.chmodSync(dataDir, PRIVATE_DIR);
}

/** chmod when the mode differs; `deep` walks a directory's contents. */
function restrict(entry: string, deep: boolean): void {
  const stat = fs.lstatSync(entry);
  if (stat.isSymbolicLink()) return;
  const mode = stat.isDirectory() ? PRIVATE_DIR : PRIVATE_FILE;
  if ((stat.mode & 0o777) !== mode) fs.chmodSync(entry, mode);
  if (deep && stat.isDirectory()) {
    for (const name of fs.readdirSync(entry)) restrict(path.join(entry, name), true);
  }
}
