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

/** The row of the OTA list: a device's current record with the device's name. */
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

const DEVICE_SEARCH = `(@search IS NULL OR instr(lower(o.version), @search) > 0
  OR instr(d.id, @search) > 0 OR instr(lower(d.name), @search) > 0)`;

export class OtaStore {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly byVersionStmt;
  private readonly historyStmt;
  private readonly touchStmt;
  private readonly deleteStmt;
  private readonly deleteTargetStmt;
  private readonly currentOfDeviceStmt;
  private readonly deviceListStmts;
  private readonly deviceCountStmt;
  private readonly deviceCountFilteredStmt;

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
    this.currentOfDeviceStmt = db.prepare<[string], OtaRow>(
      'SELECT o.* FROM devices d JOIN otas o ON o.id = d.current_ota_id WHERE d.id = ?',
    );
    const list = (dir: 'ASC' | 'DESC') =>
      db.prepare<
        { owner: string; search: string | null; limit: number; offset: number },
        OtaRow & { target_name: string }
      >(
        `SELECT o.*, d.name AS target_name FROM devices d JOIN otas o ON o.id = d.current_ota_id
         WHERE d.owner = @owner AND d.ota_updated IS NOT NULL AND ${DEVICE_SEARCH}
         ORDER BY d.ota_updated ${dir}, d.id ${dir} LIMIT @limit OFFSET @offset`,
      );
    this.deviceListStmts = { asc: list('ASC'), desc: list('DESC') };
    this.deviceCountStmt = db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM devices WHERE owner = ? AND ota_updated IS NOT NULL',
    );
    this.deviceCountFilteredStmt = db.prepare<{ owner: string; search: string | null }, { n: number }>(
      `SELECT count(*) AS n FROM devices d JOIN otas o ON o.id = d.current_ota_id
       WHERE d.owner = @owner AND d.ota_updated IS NOT NULL AND ${DEVICE_SEARCH}`,
    );
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

  currentOfDevice(deviceId: string): Ota | undefined {
    const row = this.currentOfDeviceStmt.get(deviceId);
    return row && toOta(row);
  }

  /** One row per device of the owner: the record it is served now. */
  listDeviceCurrent(owner: string, query: ListQuery): ListPage<CurrentOta> {
    const rows = this.deviceListStmts[query.orderDir].all({
      owner,
      search: query.search,
      limit: query.limit,
      offset: query.offset,
    });
    const total = this.deviceCountStmt.get(owner)!.n;
    const filtered =
      query.search === null ? total : this.deviceCountFilteredStmt.get({ owner, search: query.search })!.n;
    return { rows: rows.map((row) => ({ ...toOta(row), targetName: row.target_name })), total, filtered };
  }
}
