import type { Db } from './database.js';
import type { ListPage, ListQuery } from './list-query.js';

export type TargetKind = 'device' | 'group';

/** One kept firmware version of a device (or group). */
export interface Ota {
  id: string;
  targetKind: TargetKind;
  targetId: string;
  owner: string;
  version: string;
  /** Storage key of the bytes (see FirmwareFiles). */
  path: string;
  size: number;
  sha256: string;
  md5: string;
  chip: string | null;
  createdAt: string;
  lastUpdated: string;
}

/** The row of the OTA list: a device's (or group's) current record with its name. */
export interface CurrentOta extends Ota {
  targetName: string;
}

interface OtaRow {
  id: string;
  target_kind: TargetKind;
  target_id: string;
  owner: string;
  version: string;
  path: string;
  size: number;
  sha256: string;
  md5: string;
  chip: string | null;
  created_at: string;
  last_updated: string;
}

const toOta = (row: OtaRow): Ota => ({
  id: row.id,
  targetKind: row.target_kind,
  targetId: row.target_id,
  owner: row.owner,
  version: row.version,
  path: row.path,
  size: row.size,
  sha256: row.sha256,
  md5: row.md5,
  chip: row.chip,
  createdAt: row.created_at,
  lastUpdated: row.last_updated,
});

/** The table a target kind lives in (constants, never user input). */
const TABLES: Record<TargetKind, string> = { device: 'devices', group: 'groups' };

const searchOf = (alias: string) => `(@search IS NULL OR instr(lower(o.version), @search) > 0
  OR instr(${alias}.id, @search) > 0 OR instr(lower(${alias}.name), @search) > 0)`;

type ListParams = { owner: string; search: string | null; limit: number; offset: number };

/** The statements behind one kind's OTA list: one row per target, its current record. */
function listStatements(db: Db, kind: TargetKind) {
  const table = TABLES[kind];
  const search = searchOf('t');
  const list = (dir: 'ASC' | 'DESC') =>
    db.prepare<ListParams, OtaRow & { target_name: string }>(
      `SELECT o.*, t.name AS target_name FROM ${table} t JOIN otas o ON o.id = t.current_ota_id
       WHERE t.owner = @owner AND t.ota_updated IS NOT NULL AND ${search}
       ORDER BY t.ota_updated ${dir}, t.id ${dir} LIMIT @limit OFFSET @offset`,
    );
  return {
    rows: { asc: list('ASC'), desc: list('DESC') },
    count: db.prepare<[string], { n: number }>(
      `SELECT count(*) AS n FROM ${table} WHERE owner = ? AND ota_updated IS NOT NULL`,
    ),
    countFiltered: db.prepare<{ owner: string; search: string | null }, { n: number }>(
      `SELECT count(*) AS n FROM ${table} t JOIN otas o ON o.id = t.current_ota_id
       WHERE t.owner = @owner AND t.ota_updated IS NOT NULL AND ${search}`,
    ),
    current: db.prepare<[string], OtaRow>(
      `SELECT o.* FROM ${table} t JOIN otas o ON o.id = t.current_ota_id WHERE t.id = ?`,
    ),
  };
}

export class OtaStore {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly byVersionStmt;
  private readonly historyStmt;
  private readonly touchStmt;
  private readonly deleteStmt;
  private readonly deleteTargetStmt;
  private readonly perKind: Record<TargetKind, ReturnType<typeof listStatements>>;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO otas (id, target_kind, target_id, owner, version, path, size, sha256, md5, chip, created_at, last_updated)
       VALUES (@id, @targetKind, @targetId, @owner, @version, @path, @size, @sha256, @md5, @chip, @createdAt, @lastUpdated)`,
    );
    this.byIdStmt = db.prepare<[string], OtaRow>('SELECT * FROM otas WHERE id = ?');
    this.byVersionStmt = db.prepare<[TargetKind, string, string], OtaRow>(
      'SELECT * FROM otas WHERE target_kind = ? AND target_id = ? AND version = ?',
    );
    this.historyStmt = db.prepare<[TargetKind, string], OtaRow>(
      'SELECT * FROM otas WHERE target_kind = ? AND target_id = ? ORDER BY last_updated DESC, id DESC',
    );
    this.touchStmt = db.prepare('UPDATE otas SET last_updated = ? WHERE id = ?');
    this.deleteStmt = db.prepare('DELETE FROM otas WHERE id = ?');
    this.deleteTargetStmt = db.prepare('DELETE FROM otas WHERE target_kind = ? AND target_id = ?');
    this.perKind = { device: listStatements(db, 'device'), group: listStatements(db, 'group') };
  }

  insert(ota: Ota): void {
    this.insertStmt.run(ota);
  }

  byId(id: string): Ota | undefined {
    const row = this.byIdStmt.get(id);
    return row && toOta(row);
  }

  byVersion(kind: TargetKind, targetId: string, version: string): Ota | undefined {
    const row = this.byVersionStmt.get(kind, targetId, version);
    return row && toOta(row);
  }

  /** Kept versions, most recently made current first. */
  history(kind: TargetKind, targetId: string): Ota[] {
    return this.historyStmt.all(kind, targetId).map(toOta);
  }

  touch(id: string, lastUpdated: string): void {
    this.touchStmt.run(lastUpdated, id);
  }

  delete(id: string): void {
    this.deleteStmt.run(id);
  }

  deleteTarget(kind: TargetKind, targetId: string): void {
    this.deleteTargetStmt.run(kind, targetId);
  }

  /** The record a device or group is served now. */
  currentOf(kind: TargetKind, targetId: string): Ota | undefined {
    const row = this.perKind[kind].current.get(targetId);
    return row && toOta(row);
  }

  currentOfDevice(deviceId: string): Ota | undefined {
    return this.currentOf('device', deviceId);
  }

  /** One row per device (or group) of the owner: the record it is served now. */
  listCurrent(kind: TargetKind, owner: string, query: ListQuery): ListPage<CurrentOta> {
    const statements = this.perKind[kind];
    const rows = statements.rows[query.orderDir].all({
      owner,
      search: query.search,
      limit: query.limit,
      offset: query.offset,
    });
    const total = statements.count.get(owner)!.n;
    const filtered =
      query.search === null
        ? total
        : statements.countFiltered.get({ owner, search: query.search })!.n;
    return {
      rows: rows.map((row) => ({ ...toOta(row), targetName: row.target_name })),
      total,
      filtered,
    };
  }

  listDeviceCurrent(owner: string, query: ListQuery): ListPage<CurrentOta> {
    return this.listCurrent('device', owner, query);
  }
}
