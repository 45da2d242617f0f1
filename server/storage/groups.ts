import type { Db } from './database.js';
import type { ListPage, ListQuery } from './list-query.js';

/** An IoTaaP group: devices that share one firmware, fetched with the group's own token. */
export interface Group {
  id: string;
  owner: string;
  name: string;
  tokenHash: string;
  createdAt: string;
  currentOtaId: string | null;
  /** Learned from the first upload, or given at creation; null while unknown. */
  chip: string | null;
  /** The version the group serves now (derived), null before its first upload. */
  version: string | null;
  /** How many devices belong to it (derived). */
  deviceCount: number;
}

export type NewGroup = Pick<Group, 'id' | 'owner' | 'name' | 'tokenHash' | 'createdAt' | 'chip'>;

interface GroupRow {
  id: string;
  owner: string;
  name: string;
  token_hash: string;
  created_at: string;
  current_ota_id: string | null;
  chip: string | null;
  version: string | null;
  device_count: number;
}

const toGroup = (row: GroupRow): Group => ({
  id: row.id,
  owner: row.owner,
  name: row.name,
  tokenHash: row.token_hash,
  createdAt: row.created_at,
  currentOtaId: row.current_ota_id,
  chip: row.chip,
  version: row.version,
  deviceCount: row.device_count,
});

const SELECT_GROUP = `SELECT g.*, o.version AS version,
    (SELECT count(*) FROM devices d WHERE d.group_id = g.id) AS device_count
  FROM groups g LEFT JOIN otas o ON o.id = g.current_ota_id`;

// Literal substring match, as for devices (see storage/devices.ts).
const SEARCH = `(@search IS NULL OR instr(lower(g.name), @search) > 0 OR instr(g.id, @search) > 0)`;

export class GroupStore {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly renameStmt;
  private readonly setTokenStmt;
  private readonly deleteStmt;
  private readonly setCurrentStmt;
  private readonly setChipStmt;
  private readonly listStmts;
  private readonly countStmt;
  private readonly countFilteredStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO groups (id, owner, name, token_hash, created_at, chip)
       VALUES (@id, @owner, @name, @tokenHash, @createdAt, @chip)`,
    );
    this.byIdStmt = db.prepare<[string], GroupRow>(`${SELECT_GROUP} WHERE g.id = ?`);
    this.renameStmt = db.prepare('UPDATE groups SET name = ? WHERE id = ?');
    this.setTokenStmt = db.prepare('UPDATE groups SET token_hash = ? WHERE id = ?');
    this.deleteStmt = db.prepare('DELETE FROM groups WHERE id = ?');
    this.setCurrentStmt = db.prepare(
      'UPDATE groups SET current_ota_id = ?, ota_updated = ?, ota_version = ? WHERE id = ?',
    );
    this.setChipStmt = db.prepare('UPDATE groups SET chip = ? WHERE id = ?');
    const list = (dir: 'ASC' | 'DESC') =>
      db.prepare<{ owner: string; search: string | null; limit: number; offset: number }, GroupRow>(
        `${SELECT_GROUP} WHERE g.owner = @owner AND ${SEARCH}
         ORDER BY g.created_at ${dir}, g.id ${dir} LIMIT @limit OFFSET @offset`,
      );
    this.listStmts = { asc: list('ASC'), desc: list('DESC') };
    this.countStmt = db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM groups WHERE owner = ?',
    );
    this.countFilteredStmt = db.prepare<{ owner: string; search: string | null }, { n: number }>(
      `SELECT count(*) AS n FROM groups g WHERE g.owner = @owner AND ${SEARCH}`,
    );
  }

  insert(group: NewGroup): void {
    this.insertStmt.run(group);
  }

  byId(id: string): Group | undefined {
    const row = this.byIdStmt.get(id);
    return row && toGroup(row);
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

  list(owner: string, query: ListQuery): ListPage<Group> {
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
    return { rows: rows.map(toGroup), total, filtered };
  }
}
