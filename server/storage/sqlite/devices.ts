import { containsText, engineOf } from '../sql.js';
import type { Db } from './database.js';
import type { ListPage, ListQuery } from '../list-query.js';
import { CountCache } from './count-cache.js';
import { TargetTable } from './target-table.js';

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
  /** Where runningVersion came from: a download's headers or an MQTT status. */
  runningVersionSource: 'download' | 'mqtt' | null;
  /** From the last MQTT status (IoTaaP OS: restarts at every boot). */
  uptime: number | null;
  /** The last `update-response` code over MQTT, and when it arrived. */
  updateResponse: { code: number; at: string } | null;
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
  running_version_source: 'download' | 'mqtt' | null;
  uptime: number | null;
  update_response_code: number | null;
  update_response_at: string | null;
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
  runningVersionSource: row.running_version_source,
  uptime: row.uptime,
  updateResponse:
    row.update_response_code !== null && row.update_response_at !== null
      ? { code: row.update_response_code, at: row.update_response_at }
      : null,
  servedVersion: row.served_version,
});

/**
 * Every device column plus the version it is meant to run (see Device.servedVersion), from the
 * served versions kept on the device and group rows (no otas lookup).
 */
const SELECT_DEVICE = `SELECT d.*, COALESCE(g.ota_version, d.ota_version) AS served_version
  FROM devices d LEFT JOIN groups g ON g.id = d.group_id`;

export class DeviceStore extends TargetTable<DeviceRow, Device> {
  private readonly insertStmt;
  private readonly setGroupStmt;
  private readonly leaveGroupStmt;
  private readonly byOwnerStmt;
  private readonly inGroup;
  private readonly indexed;
  private readonly indexedCounts: CountCache;
  /** SQLite's FTS5 trigram table (migration 3); PostgreSQL lists searches by a scan. */
  private readonly trigramIndex: boolean;

  constructor(db: Db) {
    super(db, { table: 'devices', select: SELECT_DEVICE, alias: 'd', toModel: toDevice });
    this.insertStmt = db.prepare(
      `INSERT INTO devices (id, owner, name, token_hash, created_at, chip)
       VALUES (@id, @owner, @name, @tokenHash, @createdAt, @chip)`,
    );
    this.setGroupStmt = db.prepare('UPDATE devices SET group_id = ? WHERE id = ?');
    this.leaveGroupStmt = db.prepare('UPDATE devices SET group_id = NULL WHERE group_id = ?');
    this.byOwnerStmt = db.prepare<[string], DeviceRow>(
      `${SELECT_DEVICE} WHERE d.owner = ? ORDER BY d.created_at, d.id`,
    );
    this.inGroup = groupListStatements(db);
    this.indexed = indexedSearchStatements(db);
    this.indexedCounts = new CountCache(db);
    this.trigramIndex = engineOf(db) === 'sqlite';
  }

  /**
   * The owner's devices, as TargetTable lists them, but a search that matches few devices is
   * answered from the trigram index (device_search) instead of reading every device's name:
   * at 100,000 devices ~200 ms became a few ms (docs/dashboard.md).
   */
  override list(owner: string, query: ListQuery): ListPage<Device> {
    return this.fromIndex(owner, null, query) ?? super.list(owner, query);
  }

  /** One group's members, paged and searched like `list` (by the group index). */
  listInGroup(owner: string, group: string, query: ListQuery): ListPage<Device> {
    const indexed = this.fromIndex(owner, group, query);
    if (indexed) return indexed;
    const { search, limit, offset, orderDir } = query;
    const params = { owner, group, search };
    const rows = this.inGroup[orderDir].all({ ...params, limit, offset });
    const total = this.inGroup.count.get({ ...params, search: null })!.n;
    const filtered = search === null ? total : this.inGroup.count.get(params)!.n;
    return { rows: rows.map(toDevice), total, filtered };
  }

  insert(device: NewDevice): void {
    this.insertStmt.run(device);
  }

  /**
   * A page of a search through the trigram index, or undefined when a walk in list order is the
   * better plan: searches shorter than a trigram, searches beyond ASCII (the walk's lower()
   * folds ASCII only, the index all of Unicode: the answer must not depend on the plan), and
   * searches matching so many devices that the walk fills a page after a few rows.
   */
  private fromIndex(owner: string, group: string | null, query: ListQuery) {
    const { search, limit, offset, orderDir } = query;
    if (!this.trigramIndex) return;
    if (search === null || search.length < MIN_INDEXED_SEARCH || !ASCII.test(search)) return;
    // Only the columns the walk searches: id and name (the index also holds the version).
    const match = `{id name} : "${search.replace(/"/g, '""')}"`;
    const params = { owner, group, match };
    const filtered = this.indexedCounts.get(
      `${owner}\n${group}\n${match}`,
      () => this.indexed.count.get(params)!.n,
    );
    if (filtered > MAX_INDEXED_MATCHES) return;
    const total = this.indexed.total.get({ owner, group })!.n;
    const rows = offset >= filtered ? [] : this.indexed[orderDir].all({ ...params, limit, offset });
    return { rows: rows.map(toDevice), total, filtered };
  }

  /** Joins a group, or leaves it with null. */
  setGroup(id: string, groupId: string | null): void {
    this.setGroupStmt.run(groupId, id);
  }

  /** Every member leaves the group (before the group is deleted). */
  leaveGroup(groupId: string): void {
    this.leaveGroupStmt.run(groupId);
  }

  allOf(owner: string): Device[] {
    return this.byOwnerStmt.all(owner).map(toDevice);
  }
}

/** The trigram index answers searches of three characters or more. */
const MIN_INDEXED_SEARCH = 3;
/**
 * Above this many matches the walk in list order is cheaper: it stops after the page, and with
 * that many matches the page comes early. Below it, sorting the matches is a few milliseconds.
 */
const MAX_INDEXED_MATCHES = 5000;
const ASCII = /^[\x20-\x7e]*$/;

type IndexedParams = { owner: string; group: string | null; match: string };
type GroupListParams = { owner: string; group: string; search: string | null };

/** A page (either order) and a count of the devices `where` selects, in list order. */
function pagedStatements<P extends object>(db: Db, where: string) {
  const page = (dir: 'ASC' | 'DESC') =>
    db.prepare<P & { limit: number; offset: number }, DeviceRow>(
      `${SELECT_DEVICE} WHERE ${where} ORDER BY d.created_at ${dir}, d.id ${dir}
       LIMIT @limit OFFSET @offset`,
    );
  return {
    asc: page('ASC'),
    desc: page('DESC'),
    count: db.prepare<P, { n: number }>(`SELECT count(*) AS n FROM devices d WHERE ${where}`),
  };
}

function indexedSearchStatements(db: Db) {
  return {
    ...pagedStatements<IndexedParams>(
      db,
      `d.rowid IN (SELECT rowid FROM device_search WHERE device_search MATCH @match)
       AND d.owner = @owner AND (@group IS NULL OR d.group_id = @group)`,
    ),
    total: db.prepare<{ owner: string; group: string | null }, { n: number }>(
      `SELECT count(*) AS n FROM devices d
       WHERE d.owner = @owner AND (@group IS NULL OR d.group_id = @group)`,
    ),
  };
}

function groupListStatements(db: Db) {
  // As TargetTable's search: matched literally, % and _ are just characters.
  return pagedStatements<GroupListParams>(
    db,
    `d.group_id = @group AND d.owner = @owner AND (@search IS NULL
     OR ${containsText(db, 'lower(d.name)', '@search')} OR ${containsText(db, 'd.id', '@search')})`,
  );
}
