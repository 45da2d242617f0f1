import type { OtaClient } from '../../../contract/ota-client.js';
import { CountCache } from './count-cache.js';
import { containsText, engineOf } from '../sql.js';
import { servedCacheOf, type ServedCache } from '../postgres/served-cache.js';
import type { Db } from './database.js';
import type { ListPage, ListQuery } from '../list-query.js';

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
  /** The OTA clients the image carries; null when unknown (uploaded before they were recorded). */
  otaClient: OtaClient[] | null;
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
  ota_client: string | null;
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
  otaClient: row.ota_client === null ? null : (JSON.parse(row.ota_client) as OtaClient[]),
  createdAt: row.created_at,
  lastUpdated: row.last_updated,
});

/** The table a target kind lives in (constants, never user input). */
const TABLES: Record<TargetKind, string> = { device: 'devices', group: 'groups' };

/** The OTA list's search over the target's version, id and name, matched literally. */
const scanSearch = (
  db: Db,
) => `(@search IS NULL OR ${containsText(db, 'lower(t.ota_version)', '@search')}
  OR ${containsText(db, 't.id', '@search')} OR ${containsText(db, 'lower(t.name)', '@search')})`;

type ListParams = { owner: string; search: string | null; limit: number; offset: number };
type ListRow = OtaRow & { target_name: string };

/** The statements behind one kind's OTA list: one row per target, its current record. */
function listStatements(db: Db, kind: TargetKind) {
  const table = TABLES[kind];
  const scan = (dir: 'ASC' | 'DESC') =>
    db.prepare<ListParams, ListRow>(
      `SELECT o.*, t.name AS target_name FROM ${table} t JOIN otas o ON o.id = t.current_ota_id
       WHERE t.owner = @owner AND t.ota_updated IS NOT NULL AND ${scanSearch(db)}
       ORDER BY t.ota_updated ${dir}, t.id ${dir} LIMIT @limit OFFSET @offset`,
    );
  return {
    scan: { asc: scan('ASC'), desc: scan('DESC') },
    count: db.prepare<[string], { n: number }>(
      `SELECT count(*) AS n FROM ${table} WHERE owner = ? AND ota_updated IS NOT NULL`,
    ),
    scanCount: db.prepare<{ owner: string; search: string | null }, { n: number }>(
      `SELECT count(*) AS n FROM ${table} t
       WHERE t.owner = @owner AND t.ota_updated IS NOT NULL AND ${scanSearch(db)}`,
    ),
    current: db.prepare<[string], OtaRow>(
      `SELECT o.* FROM ${table} t JOIN otas o ON o.id = t.current_ota_id WHERE t.id = ?`,
    ),
    // The target's row alone (ota_version is kept beside current_ota_id): one B-tree lookup.
    served: db.prepare<[string], Served>(
      `SELECT token_hash AS tokenHash, ota_version AS version, current_ota_id AS otaId
       FROM ${table} WHERE id = ?`,
    ),
  };
}

/** Device search through the trigram index (migration 3); the match is a quoted FTS5 phrase. */
function deviceIndexStatements(db: Db) {
  const MATCHING = `device_search MATCH @match AND t.owner = @owner AND t.ota_updated IS NOT NULL`;
  const page = (dir: 'ASC' | 'DESC') =>
    db.prepare<{ owner: string; match: string; limit: number; offset: number }, ListRow>(
      `SELECT o.*, t.name AS target_name FROM device_search s
       JOIN devices t ON t.rowid = s.rowid JOIN otas o ON o.id = t.current_ota_id
       WHERE ${MATCHING} ORDER BY t.ota_updated ${dir}, t.id ${dir} LIMIT @limit OFFSET @offset`,
    );
  return {
    page: { asc: page('ASC'), desc: page('DESC') },
    count: db.prepare<{ owner: string; match: string }, { n: number }>(
      `SELECT count(*) AS n FROM device_search s JOIN devices t ON t.rowid = s.rowid WHERE ${MATCHING}`,
    ),
  };
}

/** What `latest` and `download` need, in one lookup: the target's token hash and served version. */
export interface Served {
  tokenHash: string;
  /** Null while the target has no firmware. */
  version: string | null;
  otaId: string | null;
}

/** The trigram index answers searches of three characters or more. */
const MIN_INDEXED_SEARCH = 3;

export class OtaStore {
  private readonly insertStmt;
  private readonly byIdStmt;
  private readonly byVersionStmt;
  private readonly historyStmt;
  private readonly touchStmt;
  private readonly setOtaClientStmt;
  private readonly deleteStmt;
  private readonly deleteTargetStmt;
  private readonly hasBytesStmt;
  private readonly perKind: Record<TargetKind, ReturnType<typeof listStatements>>;
  private readonly deviceIndex;
  private readonly searchCounts: CountCache;
  /** PostgreSQL: what polls read, remembered by this replica (postgres/served-cache.ts). */
  private readonly servedCache: ServedCache | undefined;
  /** SQLite's FTS5 trigram table (migration 3); PostgreSQL lists searches by a scan. */
  private readonly trigramIndex: boolean;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO otas (id, target_kind, target_id, owner, version, path, size, sha256, md5, chip, ota_client, created_at, last_updated)
       VALUES (@id, @targetKind, @targetId, @owner, @version, @path, @size, @sha256, @md5, @chip, @otaClient, @createdAt, @lastUpdated)`,
    );
    this.byIdStmt = db.prepare<[string], OtaRow>('SELECT * FROM otas WHERE id = ?');
    this.byVersionStmt = db.prepare<[TargetKind, string, string], OtaRow>(
      'SELECT * FROM otas WHERE target_kind = ? AND target_id = ? AND version = ?',
    );
    this.historyStmt = db.prepare<[TargetKind, string], OtaRow>(
      // Ties (two changes within a millisecond) go to the row written last: ids are random.
      'SELECT * FROM otas WHERE target_kind = ? AND target_id = ? ORDER BY last_updated DESC, rowid DESC',
    );
    this.touchStmt = db.prepare('UPDATE otas SET last_updated = ? WHERE id = ?');
    this.setOtaClientStmt = db.prepare('UPDATE otas SET ota_client = ? WHERE id = ?');
    this.deleteStmt = db.prepare('DELETE FROM otas WHERE id = ?');
    this.deleteTargetStmt = db.prepare('DELETE FROM otas WHERE target_kind = ? AND target_id = ?');
    this.hasBytesStmt = db.prepare<[string], { n: number }>(
      'SELECT 1 AS n FROM otas WHERE sha256 = ? LIMIT 1',
    );
    this.perKind = { device: listStatements(db, 'device'), group: listStatements(db, 'group') };
    this.deviceIndex = deviceIndexStatements(db);
    this.searchCounts = new CountCache(db);
    this.servedCache = servedCacheOf(db);
    this.trigramIndex = engineOf(db) === 'sqlite';
  }

  insert(ota: Ota): void {
    this.insertStmt.run({
      ...ota,
      otaClient: ota.otaClient === null ? null : JSON.stringify(ota.otaClient),
    });
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

  setOtaClient(id: string, clients: readonly OtaClient[]): void {
    this.setOtaClientStmt.run(JSON.stringify(clients), id);
  }

  delete(id: string): void {
    this.deleteStmt.run(id);
  }

  deleteTarget(kind: TargetKind, targetId: string): void {
    this.deleteTargetStmt.run(kind, targetId);
  }

  /** Whether any kept version, of any target, has these bytes (content-addressed stores). */
  hasBytes(sha256: string): boolean {
    return this.hasBytesStmt.get(sha256) !== undefined;
  }

  /** The record a device or group is served now. */
  currentOf(kind: TargetKind, targetId: string): Ota | undefined {
    const row = this.perKind[kind].current.get(targetId);
    return row && toOta(row);
  }

  /** The hot path of device polls: does the target exist, what is its token, what is it served. */
  served(kind: TargetKind, targetId: string): Served | undefined {
    const cache = this.servedCache;
    if (!cache) return this.perKind[kind].served.get(targetId);
    const remembered = cache.get(kind, targetId);
    if (remembered) return remembered;
    const served = this.perKind[kind].served.get(targetId);
    // Unknown ids are not remembered: a flood of made-up ids must not fill the cache.
    if (served) cache.set(kind, targetId, served);
    return served;
  }

  /**
   * One row per device (or group) of the owner: the record it is served now. Device searches of
   * three characters or more are counted through the trigram index; the page then comes from the
   * index too when the matches are few, or from a walk of the owner's devices in list order when
   * they are many (it stops after the page, so a search matching everything stays cheap).
   */
  listCurrent(kind: TargetKind, owner: string, query: ListQuery): ListPage<CurrentOta> {
    const statements = this.perKind[kind];
    const total = statements.count.get(owner)!.n;
    const { search, limit, offset, orderDir } = query;
    let rows: ListRow[];
    let filtered: number;
    if (search === null) {
      filtered = total;
      rows = statements.scan[orderDir].all({ owner, search, limit, offset });
    } else if (kind === 'device' && this.trigramIndex && search.length >= MIN_INDEXED_SEARCH) {
      const match = `"${search.replace(/"/g, '""')}"`;
      filtered = this.searchCounts.get(
        `${owner}\n${match}`,
        () => this.deviceIndex.count.get({ owner, match })!.n,
      );
      // Rows the walk would read before filling the page, against rows the index would sort.
      const walked = filtered === 0 ? Infinity : ((offset + limit) * total) / filtered;
      // The walk filters with SQLite's lower(), which folds ASCII only; the index folds all of
      // Unicode. For an ASCII search the two agree, so only then may the walk give the page.
      const ascii = /^[\x20-\x7e]*$/.test(search);
      rows =
        filtered === 0 || offset >= filtered
          ? []
          : ascii && walked < filtered
            ? statements.scan[orderDir].all({ owner, search, limit, offset })
            : this.deviceIndex.page[orderDir].all({ owner, match, limit, offset });
    } else {
      filtered = statements.scanCount.get({ owner, search })!.n;
      rows = statements.scan[orderDir].all({ owner, search, limit, offset });
    }
    return {
      rows: rows.map((row) => ({ ...toOta(row), targetName: row.target_name })),
      total,
      filtered,
    };
  }
}
