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
}

interface DeviceRow {
  id: string;
  owner: string;
  name: string;
  token_hash: string;
  created_at: string;
  last_contact: string | null;
  current_ota_id: string | null;
}

const toDevice = (row: DeviceRow): Device => ({
  id: row.id,
  owner: row.owner,
  name: row.name,
  tokenHash: row.token_hash,
  createdAt: row.created_at,
  lastContact: row.last_contact,
  currentOtaId: row.current_ota_id,
});

// instr() rather than LIKE: the search value is matched literally, so % and _ are just characters.
const SEARCH = `(@search IS NULL OR instr(lower(name), @search) > 0 OR instr(id, @search) > 0)`;

export class DeviceStore {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly renameStmt;
  private readonly setTokenStmt;
  private readonly deleteStmt;
  private readonly setCurrentStmt;
  private readonly listStmts;
  private readonly countStmt;
  private readonly countFilteredStmt;
  private readonly byOwnerStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO devices (id, owner, name, token_hash, created_at)
       VALUES (@id, @owner, @name, @tokenHash, @createdAt)`,
    );
    this.byIdStmt = db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE id = ?');
    this.renameStmt = db.prepare('UPDATE devices SET name = ? WHERE id = ?');
    this.setTokenStmt = db.prepare('UPDATE devices SET token_hash = ? WHERE id = ?');
    this.deleteStmt = db.prepare('DELETE FROM devices WHERE id = ?');
    this.setCurrentStmt = db.prepare('UPDATE devices SET current_ota_id = ?, ota_updated = ? WHERE id = ?');
    const list = (dir: 'ASC' | 'DESC') =>
      db.prepare<{ owner: string; search: string | null; limit: number; offset: number }, DeviceRow>(
        `SELECT * FROM devices WHERE owner = @owner AND ${SEARCH}
         ORDER BY created_at ${dir}, id ${dir} LIMIT @limit OFFSET @offset`,
      );
    this.listStmts = { asc: list('ASC'), desc: list('DESC') };
    this.countStmt = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM devices WHERE owner = ?');
    this.countFilteredStmt = db.prepare<{ owner: string; search: string | null }, { n: number }>(
      `SELECT count(*) AS n FROM devices WHERE owner = @owner AND ${SEARCH}`,
    );
    this.byOwnerStmt = db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE owner = ? ORDER BY created_at, id');
  }

  insert(device: Omit<Device, 'lastContact' | 'currentOtaId'>): void {
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

  setCurrent(id: string, otaId: string, otaUpdated: string): void {
    this.setCurrentStmt.run(otaId, otaUpdated, id);
  }

  list(owner: string, query: ListQuery): ListPage<Device> {
    const rows = this.listStmts[query.orderDir].all({
      owner,
      search: query.search,
      limit: query.limit,
      offset: query.offset,
    });
    const total = this.countStmt.get(owner)!.n;
    const filtered = query.search === null ? total : this.countFilteredStmt.get({ owner, search: query.search })!.n;
    return { rows: rows.map(toDevice), total, filtered };
  }

  allOf(owner: string): Device[] {
    return this.byOwnerStmt.all(owner).map(toDevice);
  }
}
