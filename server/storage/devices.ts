import type { Db } from './database.js';
import type { ListPage, ListQuery } from './list-query.js';

export interface Device {
  id: string;
  owner: string;
  name: string;
  tokenHash: string;
  createdAt: string;
  lastContact: string | null;
  currentOtaId: string | null;
  groupId: string | null;
  /** Learned from the first upload, or given at creation; null while unknown. */
  chip: string | null;
  /** From check-ins (services/checkin-recorder.ts); null until the device said. */
  runningVersion: string | null;
  runningMd5: string | null;
  mac: string | null;
  freeSpace: number | null;
  sdkVersion: string | null;
  /**
   * The version this device is meant to run: its group's when it belongs to a group that has
   * firmware (group devices ask the group endpoints), else its own; null when there is none.
   */
  servedVersion: string | null;
}

/** What a new device is inserted with; everything else starts empty. */
export type NewDevice = Pick<Device, 'id' | 'owner' | 'name' | 'tokenHash' | 'createdAt' | 'chip'>;

interface DeviceRow {
  id: string;
  owner: string;
  name: string;
  token_hash: string;
  created_at: string;
  last_contact: string | null;
  current_ota_id: string | null;
  group_id: string | null;
  chip: string | null;
  running_version: string | null;
  running_md5: string | null;
  mac: string | null;
  free_space: number | null;
  sdk_version: string | null;
  served_version: string | null;
}

const toDevice = (row: DeviceRow): Device => ({
  id: row.id,
  owner: row.owner,
  name: row.name,
  tokenHash: row.token_hash,
  createdAt: row.created_at,
  lastContact: row.last_contact,
  currentOtaId: row.current_ota_id,
  groupId: row.group_id,
  chip: row.chip,
  runningVersion: row.running_version,
  runningMd5: row.running_md5,
  mac: row.mac,
  freeSpace: row.free_space,
  sdkVersion: row.sdk_version,
  servedVersion: row.served_version,
});

/** Every device column plus the version it is meant to run (see Device.servedVersion). */
const SELECT_DEVICE = `SELECT d.*, COALESCE(gota.version, dota.version) AS served_version
  FROM devices d
  LEFT JOIN groups g ON g.id = d.group_id
  LEFT JOIN otas gota ON gota.id = g.current_ota_id
  LEFT JOIN otas dota ON dota.id = d.current_ota_id`;

// instr() rather than LIKE: the search value is matched literally, so % and _ are just characters.
const SEARCH = `(@search IS NULL OR instr(lower(d.name), @search) > 0 OR instr(d.id, @search) > 0)`;

export class DeviceStore {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly renameStmt;
  private readonly setTokenStmt;
  private readonly deleteStmt;
  private readonly setCurrentStmt;
  private readonly setChipStmt;
  private readonly setGroupStmt;
  private readonly leaveGroupStmt;
  private readonly listStmts;
  private readonly countStmt;
  private readonly countFilteredStmt;
  private readonly byOwnerStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO devices (id, owner, name, token_hash, created_at, chip)
       VALUES (@id, @owner, @name, @tokenHash, @createdAt, @chip)`,
    );
    this.byIdStmt = db.prepare<[string], DeviceRow>(`${SELECT_DEVICE} WHERE d.id = ?`);
    this.renameStmt = db.prepare('UPDATE devices SET name = ? WHERE id = ?');
    this.setTokenStmt = db.prepare('UPDATE devices SET token_hash = ? WHERE id = ?');
    this.deleteStmt = db.prepare('DELETE FROM devices WHERE id = ?');
    this.setCurrentStmt = db.prepare(
      'UPDATE devices SET current_ota_id = ?, ota_updated = ?, ota_version = ? WHERE id = ?',
    );
    this.setChipStmt = db.prepare('UPDATE devices SET chip = ? WHERE id = ?');
    this.setGroupStmt = db.prepare('UPDATE devices SET group_id = ? WHERE id = ?');
    this.leaveGroupStmt = db.prepare('UPDATE devices SET group_id = NULL WHERE group_id = ?');
    const list = (dir: 'ASC' | 'DESC') =>
      db.prepare<
        { owner: string; search: string | null; limit: number; offset: number },
        DeviceRow
      >(
        `${SELECT_DEVICE} WHERE d.owner = @owner AND ${SEARCH}
         ORDER BY d.created_at ${dir}, d.id ${dir} LIMIT @limit OFFSET @offset`,
      );
    this.listStmts = { asc: list('ASC'), desc: list('DESC') };
    this.countStmt = db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM devices WHERE owner = ?',
    );
    this.countFilteredStmt = db.prepare<{ owner: string; search: string | null }, { n: number }>(
      `SELECT count(*) AS n FROM devices d WHERE d.owner = @owner AND ${SEARCH}`,
    );
    this.byOwnerStmt = db.prepare<[string], DeviceRow>(
      `${SELECT_DEVICE} WHERE d.owner = ? ORDER BY d.created_at, d.id`,
    );
  }

  insert(device: NewDevice): void {
    this.insertStmt.run(device);
  }

  byId(id: string): Device | undefined {
    const row = this.byIdStmt.get(id);
    return row && toDevice(row);
  }

  rename(id: string, name: string): void {
    this.renameStmt.run(name, id);
  }

  setTokenHash(id: string, tokenHash: string): void {
    this.setTokenStmt.run(tokenHash, id);
  }

  delete(id: string): void {
    this.deleteStmt.run(id);
  }

  /** Serves a record: its id, and copies of its time and version for sorting and searching. */
  setCurrent(id: string, ota: { id: string; lastUpdated: string; version: string }): void {
    this.setCurrentStmt.run(ota.id, ota.lastUpdated, ota.version, id);
  }

  setChip(id: string, chip: string): void {
    this.setChipStmt.run(chip, id);
  }

  /** Joins a group, or leaves it with null. */
  setGroup(id: string, groupId: string | null): void {
    this.setGroupStmt.run(groupId, id);
  }

  /** Every member leaves the group (before the group is deleted). */
  leaveGroup(groupId: string): void {
    this.leaveGroupStmt.run(groupId);
  }

  list(owner: string, query: ListQuery): ListPage<Device> {
    const rows = this.listStmts[query.orderDir].all({
      owner,
      search: query.search,
      limit: query.limit,
      offset: query.offset,
    });
    const total = this.countStmt.get(owner)!.n;
    const filtered =
      query.search === null
        ? total
        : this.countFilteredStmt.get({ owner, search: query.search })!.n;
    return { rows: rows.map(toDevice), total, filtered };
  }

  allOf(owner: string): Device[] {
    return this.byOwnerStmt.all(owner).map(toDevice);
  }
}
