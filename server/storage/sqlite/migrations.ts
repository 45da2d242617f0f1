/**
 * Numbered schema migrations: entry N takes the database from user_version N-1 to N.
 * Never edit a migration that has shipped; add the next one.
 *
 * Timestamps are ISO 8601 strings with milliseconds and Z, so they sort as text.
 */
export const migrations: readonly string[] = [
  // 1: users, their API keys and sessions, devices, and firmware records.
  `
  CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash TEXT,
    created_at    TEXT NOT NULL
  );

  -- API keys and login sessions, stored as SHA-256 of the secret (the secret is shown once).
  CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('api-key', 'session')),
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
  );

  CREATE TABLE devices (
    id             TEXT PRIMARY KEY,
    owner          TEXT NOT NULL REFERENCES users(id),
    name           TEXT NOT NULL,
    token_hash     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_contact   TEXT,
    -- The record devices are served; NULL until the first upload.
    current_ota_id TEXT,
    -- last_updated of the current record, copied here so the OTA list sorts on an index.
    ota_updated    TEXT
  );
  CREATE INDEX devices_by_owner_created ON devices (owner, created_at);
  CREATE INDEX devices_by_owner_ota_updated ON devices (owner, ota_updated);

  -- Every kept firmware version. target_kind is 'device' (and later 'group').
  CREATE TABLE otas (
    id           TEXT PRIMARY KEY,
    target_kind  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    owner        TEXT NOT NULL,
    version      TEXT NOT NULL,
    path         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    md5          TEXT NOT NULL,
    chip         TEXT,
    created_at   TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    UNIQUE (target_kind, target_id, version)
  );
  CREATE INDEX otas_by_target ON otas (target_kind, target_id, last_updated);
  `,

  // 2: groups (IoTaaP's), the chip a device or group runs, and what devices last reported.
  `
  CREATE TABLE groups (
    id             TEXT PRIMARY KEY,
    owner          TEXT NOT NULL REFERENCES users(id),
    name           TEXT NOT NULL,
    token_hash     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    current_ota_id TEXT,
    ota_updated    TEXT,
    -- Learned from the first upload or given at creation; NULL while unknown.
    chip           TEXT
  );
  CREATE INDEX groups_by_owner_created ON groups (owner, created_at);
  CREATE INDEX groups_by_owner_ota_updated ON groups (owner, ota_updated);

  ALTER TABLE devices ADD COLUMN group_id TEXT REFERENCES groups(id) ON DELETE SET NULL;
  ALTER TABLE devices ADD COLUMN chip TEXT;
  -- Check-ins (services/checkin-recorder.ts): what the device said it runs and about itself.
  ALTER TABLE devices ADD COLUMN running_version TEXT;
  ALTER TABLE devices ADD COLUMN running_md5 TEXT;
  ALTER TABLE devices ADD COLUMN mac TEXT;
  ALTER TABLE devices ADD COLUMN free_space INTEGER;
  ALTER TABLE devices ADD COLUMN sdk_version TEXT;
  CREATE INDEX devices_by_group_mac ON devices (group_id, mac);

  -- Devices that already had uploads know their chip from them.
  UPDATE devices SET chip = (SELECT o.chip FROM otas o WHERE o.id = devices.current_ota_id);
  `,

  // 3: search that does not scan. The served version is copied beside ota_updated (so a list
  // filters and sorts without touching otas), and a trigram full-text index over id, name and
  // version answers "substring anywhere" searches from an index (at 100k devices: under 1 ms
  // for a search matching a few, instead of two 20-35 ms scans).
  // The index is keyed by the devices table's rowid: after a VACUUM (which may renumber it),
  // run INSERT INTO device_search(device_search) VALUES ('rebuild').
  `
  ALTER TABLE devices ADD COLUMN ota_version TEXT;
  ALTER TABLE groups ADD COLUMN ota_version TEXT;
  UPDATE devices SET ota_version = (SELECT o.version FROM otas o WHERE o.id = devices.current_ota_id);
  UPDATE groups SET ota_version = (SELECT o.version FROM otas o WHERE o.id = groups.current_ota_id);

  CREATE VIRTUAL TABLE device_search USING fts5(
    id, name, ota_version, content = 'devices', tokenize = 'trigram'
  );
  INSERT INTO device_search (device_search) VALUES ('rebuild');
  CREATE TRIGGER device_search_insert AFTER INSERT ON devices BEGIN
    INSERT INTO device_search (rowid, id, name, ota_version)
      VALUES (new.rowid, new.id, new.name, new.ota_version);
  END;
  CREATE TRIGGER device_search_delete AFTER DELETE ON devices BEGIN
    INSERT INTO device_search (device_search, rowid, id, name, ota_version)
      VALUES ('delete', old.rowid, old.id, old.name, old.ota_version);
  END;
  CREATE TRIGGER device_search_update AFTER UPDATE OF id, name, ota_version ON devices BEGIN
    INSERT INTO device_search (device_search, rowid, id, name, ota_version)
      VALUES ('delete', old.rowid, old.id, old.name, old.ota_version);
    INSERT INTO device_search (rowid, id, name, ota_version)
      VALUES (new.rowid, new.id, new.name, new.ota_version);
  END;
  `,

  // 4: the OTA clients an image carries (contract/ota-client.ts), a JSON array such as
  // '["iotaap-os"]', or '[]' for none. NULL for records uploaded before: unknown, which the
  // OTA client guard never refuses on (docs/ota-client-guard.md).
  `
  ALTER TABLE otas ADD COLUMN ota_client TEXT;
  `,

  // 5: failed logins of the last 15 minutes, for throttling per email and per client address.
  // In the database, not in memory: `serve --workers N` processes (and, later, replicas) must
  // all see the same count. IF NOT EXISTS: a database taken back to an earlier schema version
  // (ota-client-guard.test.ts does) keeps this table, and running the step again must not fail.
  `
  CREATE TABLE IF NOT EXISTS login_failures (
    email   TEXT NOT NULL COLLATE NOCASE,
    address TEXT NOT NULL,
    at      TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS login_failures_by_email ON login_failures (email, at);
  CREATE INDEX IF NOT EXISTS login_failures_by_address ON login_failures (address, at);
  CREATE INDEX IF NOT EXISTS login_failures_by_at ON login_failures (at);
  `,

  // 6: push over MQTT (docs/push.md). The account's MQTT user names its devices' topics, so it
  // belongs to one account only. Devices keep what they last said over MQTT, and where the
  // running version came from (a download's headers or an MQTT status).
  `
  ALTER TABLE users ADD COLUMN mqtt_user TEXT;
  CREATE UNIQUE INDEX users_by_mqtt_user ON users (mqtt_user) WHERE mqtt_user IS NOT NULL;
  ALTER TABLE devices ADD COLUMN running_version_source TEXT;
  ALTER TABLE devices ADD COLUMN uptime INTEGER;
  ALTER TABLE devices ADD COLUMN update_response_code INTEGER;
  ALTER TABLE devices ADD COLUMN update_response_at TEXT;
  UPDATE devices SET running_version_source = 'download' WHERE running_version IS NOT NULL;
  `,

  // 7: a content-addressed firmware store (S3, docs/storage.md) removes an object only when no
  // kept version has its bytes: one indexed lookup per object its sweep looks at.
  `
  CREATE INDEX IF NOT EXISTS otas_by_sha256 ON otas (sha256);
  `,

  // 8: staged rollouts of a group's version (docs/rollouts.md). In the database, not in a
  // process: `serve --workers N` (and replicas) serve downloads from the same state. What each
  // device did during a rollout is keyed by its station MAC (group URLs carry no device id).
  // At most one open rollout (running, paused or halted) per group, which a group download
  // finds through the partial unique index. IF NOT EXISTS: a database taken back to an earlier
  // schema version keeps these tables (see migration 5).
  `
  CREATE TABLE IF NOT EXISTS rollouts (
    id                  TEXT PRIMARY KEY,
    group_id            TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    owner               TEXT NOT NULL,
    ota_id              TEXT NOT NULL,
    version             TEXT NOT NULL,
    previous_ota_id     TEXT NOT NULL,
    previous_version    TEXT NOT NULL,
    phases              TEXT NOT NULL,
    phase               INTEGER NOT NULL,
    state               TEXT NOT NULL
                        CHECK (state IN ('running', 'paused', 'halted', 'completed', 'aborted')),
    halt_after_failures INTEGER NOT NULL,
    advance             TEXT NOT NULL CHECK (advance IN ('manual', 'auto')),
    advance_at          INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS rollouts_by_group ON rollouts (group_id, created_at);
  CREATE UNIQUE INDEX IF NOT EXISTS rollouts_open_by_group ON rollouts (group_id)
    WHERE state IN ('running', 'paused', 'halted');

  CREATE TABLE IF NOT EXISTS rollout_devices (
    rollout_id    TEXT NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
    mac           TEXT NOT NULL,
    device_id     TEXT,
    -- 0..9999 from the MAC's hash: in the phase when bucket < percentage * 100.
    bucket        INTEGER NOT NULL,
    downloaded_at TEXT,
    verified_at   TEXT,
    failed_at     TEXT,
    reason        TEXT,
    PRIMARY KEY (rollout_id, mac)
  ) WITHOUT ROWID;
  `,
];
