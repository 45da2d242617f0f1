import type { Db } from './database.js';
import { TargetTable } from './target-table.js';

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

const SELECT_GROUP = `SELECT g.*, g.ota_version AS version,
    (SELECT count(*) FROM devices d WHERE d.group_id = g.id) AS device_count
  FROM groups g`;

export class GroupStore extends TargetTable<GroupRow, Group> {
  private readonly insertStmt;

  constructor(db: Db) {
    super(db, { table: 'groups', select: SELECT_GROUP, alias: 'g', toModel: toGroup });
    this.insertStmt = db.prepare(
      `INSERT INTO groups (id, owner, name, token_hash, created_at, chip)
       VALUES (@id, @owner, @name, @tokenHash, @createdAt, @chip)`,
    );
  }

  insert(group: NewGroup): void {
    this.insertStmt.run(group);
  }
}
