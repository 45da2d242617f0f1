import { PgDatabase } from './pg-database.js';

/**
 * PostgreSQL's numbered schema migrations: entry N takes the database from version N-1 to N
 * (table ota_schema). Never edit one that has shipped; add the next one. They are numbered on
 * their own: the first is the schema SQLite reached at its migration 8
 * (storage/sqlite/migrations.ts explains each table and column). What differs from SQLite:
 * - emails compare without letter case through `citext` (SQLite: COLLATE NOCASE);
 * - integers are BIGINT (SQLite's INTEGER is 64-bit; sizes and millisecond times need it);
 * - `otas` and `rollouts` have a `rowid` identity column, the tie-breaker SQLite's rowid is
 *   for rows written within one millisecond;
 * - no FTS5 trigram table: searches are LIKE patterns (sql.ts containsText), which pg_trgm
 *   GIN indexes over names, ids and versions answer.
 */
export const pgMigrations: readonly string[] = [
  `
  CREATE EXTENSION IF NOT EXISTS citext;
  CREATE EXTENSION IF NOT EXISTS pg_trgm;

  CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         CITEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash TEXT,
    created_at    TEXT NOT NULL,
    mqtt_user     TEXT
  );
  CREATE UNIQUE INDEX users_by_mqtt_user ON users (mqtt_user) WHERE mqtt_user IS NOT NULL;

  CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('api-key', 'session')),
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
  );

  CREATE TABLE groups (
    id             TEXT PRIMARY KEY,
    owner          TEXT NOT NULL REFERENCES users(id),
    name           TEXT NOT NULL,
    token_hash     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    current_ota_id TEXT,
    ota_updated    TEXT,
    chip           TEXT,
    ota_version    TEXT
  );
  CREATE INDEX groups_by_owner_created ON groups (owner, created_at);
  CREATE INDEX groups_by_owner_ota_updated ON groups (owner, ota_updated);
  CREATE INDEX groups_name_trigrams ON groups USING gin (lower(name) gin_trgm_ops);
  CREATE INDEX groups_id_trigrams ON groups USING gin (id gin_trgm_ops);
  CREATE INDEX groups_version_trigrams ON groups USING gin (lower(ota_version) gin_trgm_ops);

  CREATE TABLE devices (
    id                     TEXT PRIMARY KEY,
    owner                  TEXT NOT NULL REFERENCES users(id),
    name                   TEXT NOT NULL,
    token_hash             TEXT NOT NULL,
    created_at             TEXT NOT NULL,
    last_contact           TEXT,
    current_ota_id         TEXT,
    ota_updated            TEXT,
    group_id               TEXT REFERENCES groups(id) ON DELETE SET NULL,
    chip                   TEXT,
    running_version        TEXT,
    running_md5            TEXT,
    mac                    TEXT,
    free_space             BIGINT,
    sdk_version            TEXT,
    ota_version            TEXT,
    running_version_source TEXT,
    uptime                 BIGINT,
    update_response_code   BIGINT,
    update_response_at     TEXT
  );
  CREATE INDEX devices_by_owner_created ON devices (owner, created_at);
  CREATE INDEX devices_by_owner_ota_updated ON devices (owner, ota_updated);
  CREATE INDEX devices_by_group_mac ON devices (group_id, mac);
  CREATE INDEX devices_name_trigrams ON devices USING gin (lower(name) gin_trgm_ops);
  CREATE INDEX devices_id_trigrams ON devices USING gin (id gin_trgm_ops);
  CREATE INDEX devices_version_trigrams ON devices USING gin (lower(ota_version) gin_trgm_ops);

  CREATE TABLE otas (
    id           TEXT PRIMARY KEY,
    target_kind  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    owner        TEXT NOT NULL,
    version      TEXT NOT NULL,
    path         TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    md5          TEXT NOT NULL,
    chip         TEXT,
    created_at   TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    ota_client   TEXT,
    rowid        BIGINT GENERATED ALWAYS AS IDENTITY,
    UNIQUE (target_kind, target_id, version)
  );
  CREATE INDEX otas_by_target ON otas (target_kind, target_id, last_updated);
  CREATE INDEX otas_by_sha256 ON otas (sha256);

  CREATE TABLE login_failures (
    email   CITEXT NOT NULL,
    address TEXT NOT NULL,
    at      TEXT NOT NULL
  );
  CREATE INDEX login_failures_by_email ON login_failures (email, at);
  CREATE INDEX login_failures_by_address ON login_failures (address, at);
  CREATE INDEX login_failures_by_at ON login_failures (at);

  CREATE TABLE rollouts (
    id                  TEXT PRIMARY KEY,
    group_id            TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    owner               TEXT NOT NULL,
    ota_id              TEXT NOT NULL,
    version             TEXT NOT NULL,
    previous_ota_id     TEXT NOT NULL,
    previous_version    TEXT NOT NULL,
    phases              TEXT NOT NULL,
    phase               BIGINT NOT NULL,
    state               TEXT NOT NULL
                        CHECK (state IN ('running', 'paused', 'halted', 'completed', 'aborted')),
    halt_after_failures BIGINT NOT NULL,
    advance             TEXT NOT NULL CHECK (advance IN ('manual', 'auto')),
    advance_at          BIGINT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    rowid               BIGINT GENERATED ALWAYS AS IDENTITY
  );
  CREATE INDEX rollouts_by_group ON rollouts (group_id, created_at);
  CREATE UNIQUE INDEX rollouts_open_by_group ON rollouts (group_id)
    WHERE state IN ('running', 'paused', 'halted');

  CREATE TABLE rollout_devices (
    rollout_id    TEXT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    mac           TEXT NOT NULL,
    device_id     TEXT,
    bucket        BIGINT NOT NULL,
    downloaded_at TEXT,
    verified_at   TEXT,
    failed_at     TEXT,
    reason        TEXT,
    PRIMARY KEY (rollout_id, mac)
  );
  `,

  // 2: every replica remembers what polls read (served-cache.ts) and forgets a device's or
  // group's entry when this notification says its token, served record or row changed. Check-ins
  // and reports (which set other columns) send nothing.
  `
  CREATE FUNCTION ota_served_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('ota_served', TG_ARGV[0] || ':' || OLD.id);
    RETURN NULL;
  END
  $$;
  CREATE TRIGGER devices_served_changed
    AFTER UPDATE OF id, token_hash, current_ota_id, ota_version OR DELETE ON devices
    FOR EACH ROW EXECUTE FUNCTION ota_served_changed('device');
  CREATE TRIGGER groups_served_changed
    AFTER UPDATE OF id, token_hash, current_ota_id, ota_version OR DELETE ON groups
    FOR EACH ROW EXECUTE FUNCTION ota_served_changed('group');
  `,
];

/** The session-level advisory lock replicas take, one at a time, to run the migrations. */
const MIGRATION_LOCK = 4_172_905_330;

/**
 * Connects to PostgreSQL and brings its schema up to date. Several replicas may start at once:
 * each waits for the migration lock, then reads the version the one before it left, so each
 * migration runs once. A database newer than this registry knows stops the start.
 */
export function openPostgres(url: string): PgDatabase {
  const db = new PgDatabase(url);
  try {
    db.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      db.exec(
        'CREATE TABLE IF NOT EXISTS ota_schema (version BIGINT NOT NULL, migrated_at TEXT NOT NULL)',
      );
      const current = schemaVersion(db);
      if (current > pgMigrations.length) {
        throw new Error(
          `the database has schema version ${current}, newer than this registry knows (${pgMigrations.length}): upgrade ota-deploy`,
        );
      }
      for (let version = current + 1; version <= pgMigrations.length; version++) {
        db.transaction(() => {
          // Read again inside the transaction: where the advisory lock does not exclude (PGlite,
          // one session for every connection), transactions still do.
          if (schemaVersion(db) >= version) return;
          db.exec(pgMigrations[version - 1]);
          db.query('INSERT INTO ota_schema (version, migrated_at) VALUES ($1, $2)', [
            version,
            new Date().toISOString(),
          ]);
        })();
      }
    } finally {
      db.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function schemaVersion(db: PgDatabase): number {
  return (
    db.query<{ version: number | null }>('SELECT max(version) AS version FROM ota_schema').rows[0]
      .version ?? 0
  );
}
