import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { PRIVATE_DIR, PRIVATE_FILE } from '../file-modes.js';
import { migrations } from './migrations.js';

export type { Db } from '../sql.js';
/** better-sqlite3's own Database, for what only SQLite has (pragmas, backups, checkpoints). */
export type SqliteDb = Database.Database;

/**
 * Opens (creating if needed) the registry database in the data directory and brings its
 * schema up to date. WAL mode lets the operator CLI read and write while a server runs on
 * the same file; busy_timeout makes the two wait for each other instead of failing.
 */
export function openDatabase(dataDir: string): SqliteDb {
  fs.mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  const file = path.join(dataDir, 'registry.db');
  // Created private before SQLite opens it: its -wal and -shm files take the same mode.
  fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE));
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Up to 32 MiB of pages in memory (the default is 2 MiB): at 100k devices the id index and the
  // rows devices poll no longer fit 2 MiB, and each poll would read pages back from the kernel.
  // Pages are cached as they are read, so this costs nothing until the fleet is that large.
  db.pragma('cache_size = -32768');
  migrate(db);
  return db;
}

/** Runs, in order and each in its own transaction, the migrations this file has not seen. */
function migrate(db: SqliteDb): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `registry.db has schema version ${current}, newer than this registry knows (${migrations.length}): upgrade ota-deploy`,
    );
  }
  for (let version = current + 1; version <= migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version - 1]);
      db.pragma(`user_version = ${version}`);
    }).immediate();
  }
}
