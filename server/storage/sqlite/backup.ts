import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fsyncFile } from '../local-files/firmware-files.js';

/** A backup that cannot be made as asked (no registry there, a target in use): a bad argument. */
export class BackupError extends Error {
  override name = 'BackupError';
}

export interface BackupSummary {
  /** Where the backup is: a data directory a registry can be started on. */
  dir: string;
  /** Firmware versions the backed-up records name (each one a file in the backup). */
  versions: number;
  /** Their bytes. */
  bytes: number;
  /** Database snapshots taken: more than one when uploads removed files while they were copied. */
  snapshots: number;
}

interface StoredFile {
  path: string;
  size: number;
  sha256: string;
}

/** Snapshots taken before giving up on a registry whose records name files that are gone. */
const MAX_SNAPSHOTS = 3;

/**
 * Copies the registry in `dataDir` (a server may be running on it) into `target`, a new or empty
 * directory, as a data directory of its own: `registry.db` and every firmware file its records
 * name, nothing else (no `tmp/`, no file no record names).
 *
 * Consistent while uploads run: the database is copied with SQLite's online backup in one step,
 * i.e. one read transaction (a snapshot; WAL lets the server keep reading and writing meanwhile).
 * Every record in the snapshot names a file that was fsynced before the record was written, and
 * such a file never changes while a record names it, but an upload or a delete after the
 * snapshot may remove it (history pruning). So each file is copied and its SHA-256 checked
 * against the record; if one is gone, another snapshot is taken and what is missing is copied
 * (files already copied and checked stay), up to three times.
 *
 * `registry.db` appears last, renamed from `registry.db.partial`: a directory without it is an
 * unfinished backup. Files are 0600 and directories 0700, like the data directory's own.
 */
export async function backupRegistry(dataDir: string, target: string): Promise<BackupSummary> {
  const source = path.join(dataDir, 'registry.db');
  if (!fs.existsSync(source)) {
    throw new BackupError(`no registry in ${dataDir} (registry.db is missing)`);
  }
  prepareTarget(target);
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const partial = path.join(target, 'registry.db.partial');
    const copied = new Set<string>();
    for (let snapshot = 1; snapshot <= MAX_SNAPSHOTS; snapshot++) {
      fs.rmSync(partial, { force: true });
      // The first step (0 pages) opens the backup; the second copies every page at once.
      await db.backup(partial, { progress: () => 0x7fffffff });
      const files = namedFiles(partial);
      const missing: string[] = [];
      for (const file of files) {
        if (copied.has(file.path)) continue;
        if (await copyChecked(dataDir, target, file)) copied.add(file.path);
        else missing.push(file.path);
      }
      if (missing.length === 0) {
        removeUnnamed(target, copied, new Set(files.map((file) => file.path)));
        fs.chmodSync(partial, 0o600);
        fsyncFile(partial);
        fs.renameSync(partial, path.join(target, 'registry.db'));
        return {
          dir: target,
          versions: files.length,
          bytes: files.reduce((sum, file) => sum + file.size, 0),
          snapshots: snapshot,
        };
      }
      if (snapshot === MAX_SNAPSHOTS) {
        throw new Error(
          `${missing.length} firmware file(s) the registry's records name are missing or differ ` +
            `from their records in ${dataDir}, e.g. ${missing[0]}: the backup is incomplete`,
        );
      }
    }
    throw new Error('unreachable');
  } finally {
    db.close();
  }
}

function prepareTarget(target: string): void {
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new BackupError(`${target} is not a directory`);
    if (fs.readdirSync(target).length > 0) {
      throw new BackupError(`${target} is not empty: back up into a new or empty directory`);
    }
  }
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
}

/**
 * The firmware files the copied database's records name. The copy becomes a plain database
 * file (no WAL beside it) and is checked before anything is copied for it.
 */
function namedFiles(copy: string): StoredFile[] {
  const db = new Database(copy, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copied database fails its check: ${check}`);
    return db.prepare<[], StoredFile>('SELECT path, size, sha256 FROM otas ORDER BY path').all();
  } finally {
    db.close();
  }
}

/** Copies one file, hashing it on the way; false when it is gone or is not what its record says. */
async function copyChecked(dataDir: string, target: string, file: StoredFile): Promise<boolean> {
  if (!/^ota\/(device|group)\/[0-9a-f]{24}\/[^/]+\/firmware\.bin$/.test(file.path)) {
    throw new Error(`a record names an unexpected storage key: ${file.path}`);
  }
  const to = path.join(target, file.path);
  fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
  const hash = createHash('sha256');
  try {
    const from = fs.createReadStream(path.join(dataDir, file.path));
    from.on('data', (chunk) => hash.update(chunk));
    await pipeline(from, fs.createWriteStream(to, { mode: 0o600 }));
    fsyncFile(to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.rmSync(to, { force: true });
    return false;
  }
  if (hash.digest('hex') !== file.sha256) {
    fs.rmSync(to, { force: true });
    return false;
  }
  return true;
}

/** Files an earlier snapshot named that the final one does not (pruned in between). */
function removeUnnamed(target: string, copied: Set<string>, named: Set<string>): void {
  for (const key of copied) {
    if (named.has(key)) continue;
    fs.rmSync(path.join(target, key), { force: true });
    try {
      fs.rmdirSync(path.dirname(path.join(target, key)));
    } catch {
      // not empty
    }
  }
}
