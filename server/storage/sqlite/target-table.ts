import { servedCacheOf } from '../postgres/served-cache.js';
import { containsText } from '../sql.js';
import type { Db } from './database.js';
import type { ListPage, ListQuery } from '../list-query.js';

/** How one table of firmware targets (devices, groups) is read. */
export interface TargetTableShape<Row, Model> {
  table: 'devices' | 'groups';
  /** `SELECT ... FROM <table> <alias> ...`: every row read goes through it. */
  select: string;
  alias: string;
  toModel(row: Row): Model;
}

type ListParams = { owner: string; search: string | null; limit: number; offset: number };

/**
 * What devices and groups have in common as rows: a name, a token hash, the record they are
 * served, the chip they run, and the owner's paged list. DeviceStore and GroupStore add their own.
 */
export class TargetTable<Row, Model> {
  private readonly byIdStmt;
  private readonly renameStmt;
  private readonly setTokenStmt;
  private readonly deleteStmt;
  private readonly setCurrentStmt;
  private readonly setChipStmt;
  private readonly listStmts;
  private readonly countStmt;
  private readonly countFilteredStmt;
  private readonly toModel: (row: Row) => Model;
  /** Forgets what a replica remembers for polls when a row's token or served record changes. */
  private readonly servedChanged: (id: string) => void;

  constructor(db: Db, { table, select, alias, toModel }: TargetTableShape<Row, Model>) {
    this.toModel = toModel;
    const cache = servedCacheOf(db);
    const kind = table === 'devices' ? 'device' : 'group';
    this.servedChanged = cache ? (id) => cache.forget(kind, id) : () => undefined;
    // Matched literally (containsText): % and _ are just characters.
    const search = `(@search IS NULL OR ${containsText(db, `lower(${alias}.name)`, '@search')}
      OR ${containsText(db, `${alias}.id`, '@search')})`;
    this.byIdStmt = db.prepare<[string], Row>(`${select} WHERE ${alias}.id = ?`);
    this.renameStmt = db.prepare(`UPDATE ${table} SET name = ? WHERE id = ?`);
    this.setTokenStmt = db.prepare(`UPDATE ${table} SET token_hash = ? WHERE id = ?`);
    this.deleteStmt = db.prepare(`DELETE FROM ${table} WHERE id = ?`);
    this.setCurrentStmt = db.prepare(
      `UPDATE ${table} SET current_ota_id = ?, ota_updated = ?, ota_version = ? WHERE id = ?`,
    );
    this.setChipStmt = db.prepare(`UPDATE ${table} SET chip = ? WHERE id = ?`);
    const list = (dir: 'ASC' | 'DESC') =>
      db.prepare<ListParams, Row>(
        `${select} WHERE ${alias}.owner = @owner AND ${search}
         ORDER BY ${alias}.created_at ${dir}, ${alias}.id ${dir} LIMIT @limit OFFSET @offset`,
      );
    this.listStmts = { asc: list('ASC'), desc: list('DESC') };
    this.countStmt = db.prepare<[string], { n: number }>(
      `SELECT count(*) AS n FROM ${table} WHERE owner = ?`,
    );
    this.countFilteredStmt = db.prepare<{ owner: string; search: string | null }, { n: number }>(
      `SELECT count(*) AS n FROM ${table} ${alias} WHERE ${alias}.owner = @owner AND ${search}`,
    );
  }

  byId(id: string): Model | undefined {
    const row = this.byIdStmt.get(id);
    return row && this.toModel(row);
  }

  rename(id: string, name: string): void {
    this.renameStmt.run(name, id);
  }

  setTokenHash(id: string, tokenHash: string): void {
    this.setTokenStmt.run(tokenHash, id);
    this.servedChanged(id);
  }

  delete(id: string): void {
    this.deleteStmt.run(id);
    this.servedChanged(id);
  }

  /** Serves a record: its id, and copies of its time and version for sorting and searching. */
  setCurrent(id: string, ota: { id: string; lastUpdated: string; version: string }): void {
    this.setCurrentStmt.run(ota.id, ota.lastUpdated, ota.version, id);
    this.servedChanged(id);
  }

  setChip(id: string, chip: string): void {
    this.setChipStmt.run(chip, id);
  }

  list(owner: string, query: ListQuery): ListPage<Model> {
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
    return { rows: rows.map(this.toModel), total, filtered };
  }
}
