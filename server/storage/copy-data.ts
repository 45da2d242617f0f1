import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Messages } from '../errors.js';
import type { FirmwareStore } from './firmware-store.js';
import { PRIVATE_FILE } from './file-modes.js';
import { fsyncFile } from './local-files/firmware-files.js';
import type { Db, Statement } from './sql.js';
import { migrations } from './sqlite/migrations.js';

/** A source that cannot be copied as asked (no registry there, an old schema): a bad argument. */
export class CopySourceError extends Error {
  override name = 'CopySourceError';
}

/** Rows of one table: how many this run inserted, and how many the target already had. */
interface TableCount {
  copied: number;
  present: number;
}

/** A kept version whose bytes could not be copied: neither they nor its record were. */
interface DamagedVersion {
  kind: string;
  target: string;
  version: string;
  /** `missing` (no file at the record's path) or `sha256 mismatch` (the file is not the record's bytes). */
  problem: string;
}

export interface CopySummary {
  from: string;
  users: TableCount;
  tokens: TableCount;
  groups: TableCount;
  devices: TableCount;
  /** Kept versions: their records, and their bytes (`bytes`: what this run stored). */
  firmware: TableCount & { bytes: number; damaged: DamagedVersion[] };
  rollouts: TableCount;
  rolloutDevices: TableCount;
  /** Failed logins of the last 15 minutes, for throttling: transient, not copied. */
  loginFailuresSkipped: number;
}

/** Rows per statement (SQLite allows 32766 parameters; the widest table has 20 columns). */
const ROWS_PER_STATEMENT = 100;
/** Rows per transaction: short enough not to hold the target's write lock for long. */
const ROWS_PER_TRANSACTION = 2000;
/** Versions whose bytes are spooled and staged before their records are written in one transaction. */
const VERSIONS_PER_TRANSACTION = 50;
/**
 * Versions read, hashed, fsynced and staged at once: each waits mostly on a disk flush or on S3
 * (whose store sends at most two at a time itself).
 */
const SPOOLS_AT_ONCE = 4;

/**
 * The tables in foreign-key order (a row's parents are copied before it), and the order their
 * rows are read in: the source's insertion order, so that PostgreSQL's identity column (the
 * tie-breaker SQLite's rowid is for rows written in one millisecond) numbers them alike.
 * `login_failures` is left out (transient); `device_search` is SQLite's index over devices, not
 * data (a SQLite target's triggers fill it).
 */
const TABLES = {
  users: 'rowid',
  tokens: 'rowid',
  groups: 'rowid',
  devices: 'rowid',
  otas: 'rowid',
  rollouts: 'rowid',
  rollout_devices: 'rollout_id, mac',
} as const;
type Table = keyof typeof TABLES;

type Row = Record<string, unknown>;

interface OtaRow {
  id: string;
  target_kind: string;
  target_id: string;
  version: string;
  path: string;
  size: number;
  sha256: string;
}

/**
 * Copies the SQLite registry in `from` (its registry.db, opened read-only, and the firmware files
 * its records name) into `target` (the database and firmware store of the configured backend).
 *
 * Every row goes in with INSERT ... ON CONFLICT DO NOTHING, so a second run copies only what the
 * first did not (rows already there are counted as present, never changed). A version's bytes are
 * stored (stage, then commit in the transaction that writes its record) before its record exists,
 * as an upload's are, so the target never has a record without bytes; on a second run a version
 * whose record is there is skipped without reading its file. A version whose file is missing or
 * does not hash to its record is not copied at all (listed in `damaged`); everything else is.
 *
 * The source is read in the read transaction `openSource` began: a snapshot even if a registry
 * still runs on it.
 */
export async function copyRegistry(
  registry: SourceRegistry,
  target: { db: Db; files: FirmwareStore; sameFiles: boolean },
  progress: (line: string) => void = () => undefined,
): Promise<CopySummary> {
  const { dir: from, db: source } = registry;
  refuseOtherUsers(source, target.db);
  const summary: CopySummary = {
    from,
    users: copyTable(source, target.db, 'users'),
    tokens: copyTable(source, target.db, 'tokens'),
    groups: copyTable(source, target.db, 'groups'),
    devices: copyTable(source, target.db, 'devices'),
    firmware: { copied: 0, present: 0, bytes: 0, damaged: [] },
    rollouts: { copied: 0, present: 0 },
    rolloutDevices: { copied: 0, present: 0 },
    loginFailuresSkipped: source
      .prepare('SELECT count(*) FROM login_failures')
      .pluck()
      .get() as number,
  };
  summary.firmware = await copyFirmware(source, from, target, progress);
  summary.rollouts = copyTable(source, target.db, 'rollouts');
  summary.rolloutDevices = copyTable(source, target.db, 'rollout_devices');
  return summary;
}

/** A registry to copy: its data directory, and its database opened read-only. */
export interface SourceRegistry {
  dir: string;
  db: Database.Database;
}

/**
 * registry.db in `from`, read-only, at this registry's schema version; refused otherwise (before
 * anything of the target is opened). Read in one read transaction, which `close` ends.
 */
export function openSource(from: string): SourceRegistry & { close(): void } {
  const db = openSourceDb(from);
  db.exec('BEGIN');
  // The first read takes the snapshot every later read of the copy sees.
  db.prepare('SELECT count(*) FROM users').get();
  return {
    dir: from,
    db,
    close: () => db.close(),
  };
}

function openSourceDb(from: string): Database.Database {
  const file = path.join(from, 'registry.db');
  if (!fs.existsSync(file)) throw new CopySourceError(Messages.copyNoRegistry(from));
  let source: Database.Database | undefined;
  try {
    source = new Database(file, { readonly: true, fileMustExist: true });
    source.pragma('busy_timeout = 5000');
    const version = source.pragma('user_version', { simple: true }) as number;
    if (version !== migrations.length) {
      throw new CopySourceError(Messages.copySourceSchema(from, version, migrations.length));
    }
    return source;
  } catch (err) {
    source?.close();
    if (err instanceof CopySourceError) throw err;
    // Not a database (SQLITE_NOTADB), or one we may not read.
    throw new CopySourceError(Messages.copyNotRegistry(from, (err as Error).message));
  }
}

/**
 * An account in the target with a source account's email but another id would leave every row
 * of the source account (its keys, devices) without its parent: refused before anything is
 * written. The target is meant to be new, or one an earlier run copied into.
 */
function refuseOtherUsers(source: Database.Database, target: Db): void {
  const theirs = new Map(
    (target.prepare('SELECT id, email FROM users').all() as { id: string; email: string }[]).map(
      (user) => [user.email.toLowerCase(), user.id],
    ),
  );
  for (const user of source.prepare('SELECT id, email FROM users').all() as {
    id: string;
    email: string;
  }[]) {
    const id = theirs.get(user.email.toLowerCase());
    if (id !== undefined && id !== user.id)
      throw new CopySourceError(Messages.copyUserClash(user.email));
  }
}

/** Every row of one table, in transactions of ROWS_PER_TRANSACTION rows. */
function copyTable(source: Database.Database, target: Db, table: Table): TableCount {
  const count: TableCount = { copied: 0, present: 0 };
  const insert = inserter(target, table, columnsOf(source, table));
  const rows = source.prepare(`SELECT * FROM ${table} ORDER BY ${TABLES[table]}`).iterate();
  let batch: Row[] = [];
  const flush = () => {
    const copied = target.transaction(() => insert(batch))();
    count.copied += copied;
    count.present += batch.length - copied;
    batch = [];
  };
  for (const row of rows) {
    batch.push(row as Row);
    if (batch.length === ROWS_PER_TRANSACTION) flush();
  }
  if (batch.length > 0) flush();
  return count;
}

function columnsOf(source: Database.Database, table: Table): string[] {
  return (source.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
}

/**
 * Inserts rows (several per statement) and returns how many were new. The columns are the
 * source's: PostgreSQL's identity columns (`rowid`) are not among them and number themselves.
 */
function inserter(target: Db, table: Table, columns: string[]): (rows: Row[]) => number {
  const statements = new Map<number, Statement>();
  const statement = (rows: number) => {
    let prepared = statements.get(rows);
    if (!prepared) {
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      prepared = target.prepare(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(rows).fill(tuple).join(', ')} ON CONFLICT DO NOTHING`,
      ) as Statement;
      statements.set(rows, prepared);
    }
    return prepared;
  };
  return (rows) => {
    let copied = 0;
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
      copied += statement(chunk.length).run(
        chunk.flatMap((row) => columns.map((c) => row[c])),
      ).changes;
    }
    return copied;
  };
}

/**
 * Every kept version: bytes first (spooled from the source file, hashed on the way, staged in
 * the target store), then, in one transaction per batch, each version's commit and its record.
 */
async function copyFirmware(
  source: Database.Database,
  from: string,
  target: { db: Db; files: FirmwareStore; sameFiles: boolean },
  progress: (line: string) => void,
): Promise<CopySummary['firmware']> {
  const result: CopySummary['firmware'] = { copied: 0, present: 0, bytes: 0, damaged: [] };
  const columns = columnsOf(source, 'otas');
  const insert = inserter(target.db, 'otas', columns);
  const known = new Map<number, Statement>();
  const alreadyThere = (ids: string[]): Set<string> => {
    let statement = known.get(ids.length);
    if (!statement) {
      statement = target.db
        .prepare(`SELECT id FROM otas WHERE id IN (${ids.map(() => '?').join(', ')})`)
        .pluck() as Statement;
      known.set(ids.length, statement);
    }
    return new Set(statement.all(ids) as string[]);
  };
  const rows = source.prepare(`SELECT * FROM otas ORDER BY rowid`).all() as (OtaRow & Row)[];
  for (let i = 0; i < rows.length; i += VERSIONS_PER_TRANSACTION) {
    const batch = rows.slice(i, i + VERSIONS_PER_TRANSACTION);
    // A record that is there has its bytes (they are stored before the record): not read again.
    const present = alreadyThere(batch.map((row) => row.id));
    result.present += present.size;
    const staged: { row: OtaRow & Row; temp: string; order: number }[] = [];
    const damaged: (DamagedVersion & { order: number })[] = [];
    try {
      await inParallel(
        batch.map((row, order) => ({ row, order })).filter(({ row }) => !present.has(row.id)),
        SPOOLS_AT_ONCE,
        async ({ row, order }) => {
          const temp = target.files.newTempPath();
          let problem;
          try {
            problem = await spool(
              from,
              row,
              target.sameFiles ? null : temp,
              target.files.kind === 'local-files',
            );
          } catch (err) {
            await fs.promises.rm(temp, { force: true });
            throw err;
          }
          if (problem) {
            await fs.promises.rm(temp, { force: true });
            damaged.push({
              kind: row.target_kind,
              target: row.target_id,
              version: row.version,
              problem,
              order,
            });
            return;
          }
          staged.push({ row, temp, order });
          if (!target.sameFiles) await target.files.stage(temp, row.sha256, row.size);
        },
      );
      // The source's order, which PostgreSQL's identity column keeps (see TABLES).
      staged.sort((a, b) => a.order - b.order);
      const copied = target.db.transaction(() => {
        // The same data directory: the file already is at its key.
        if (!target.sameFiles)
          for (const { row, temp } of staged) target.files.commit(temp, row.path);
        return insert(staged.map(({ row }) => row));
      })();
      result.copied += copied;
      result.present += staged.length - copied;
      if (!target.sameFiles) for (const { row } of staged) result.bytes += row.size;
      damaged.sort((a, b) => a.order - b.order);
      result.damaged.push(...damaged.map(({ order: _order, ...version }) => version));
    } finally {
      for (const { row, temp } of staged) {
        if (!target.sameFiles) await target.files.settle(temp, row.sha256, row.size);
      }
    }
    progress(`firmware: ${result.copied + result.present} of ${rows.length} versions`);
  }
  return result;
}

/**
 * Copies a version's file into `temp` (when given), hashing it; returns what is wrong with it,
 * or null when it holds the record's bytes. For files in a data directory the copy is then
 * fsynced, as an upload's is, before `commit` renames it into place; an S3 store only sends
 * it (the object is what lasts), so the flush would cost a disk wait per version for nothing.
 */
async function spool(
  from: string,
  row: OtaRow,
  temp: string | null,
  durable: boolean,
): Promise<string | null> {
  const file = path.resolve(from, row.path);
  if (!file.startsWith(path.resolve(from, 'ota') + path.sep))
    return 'path outside the data directory';
  const hash = createHash('sha256');
  let size = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      fs.createReadStream(file),
      hashing,
      temp
        ? fs.createWriteStream(temp, { mode: PRIVATE_FILE, flags: 'wx' })
        : // Read to the end for the hash only: the file already is where the target keeps it.
          new Writable({ write: (_chunk, _encoding, done) => done() }),
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  if (size !== row.size || hash.digest('hex') !== row.sha256) return 'sha256 mismatch';
  if (temp && durable) fsyncFile(temp);
  return null;
}

/** Runs `task` on every item, at most `limit` at once; rejects with the first failure, once none runs. */
async function inParallel<T>(
  items: T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      try {
        await task(items[next++]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
