import { randomBytes } from 'node:crypto';
import { newObjectId } from '../../server/ids.js';
import { hashSecret } from '../../server/secrets.js';
import { openDatabase } from '../../server/storage/sqlite/database.js';
import { DeviceStore } from '../../server/storage/sqlite/devices.js';

/**
 * What seeded device i reports, by i % 20: the fleet is served 0.9.1; half run it, a fifth still
 * run 0.9.0 (pending), one in twenty answered 203 to the update (failed), a quarter never
 * reported (silent: they were created two days ago).
 */
function report(i: number): { running: string | null; response: number | null } {
  const slot = i % 20;
  if (slot < 10) return { running: '0.9.1', response: null };
  if (slot < 14) return { running: '0.9.0', response: null };
  if (slot < 15) return { running: '0.8.4', response: 203 };
  return { running: null, response: null };
}

/**
 * Inserts `count` devices named `<prefix>-000001`... for `owner` straight into the data
 * directory's SQLite database through the registry's own DeviceStore, in one transaction: a few
 * seconds for 100,000, where as many `POST /v1/devices` would take minutes. Tokens are random and
 * not kept (nobody downloads as these devices).
 */
export function seedDevices(
  dataDir: string,
  owner: string,
  count: number,
  prefix = 'sensor',
): void {
  const db = openDatabase(dataDir);
  try {
    const devices = new DeviceStore(db);
    // The served version as an upload leaves it on the row (no file behind it: nobody downloads).
    const reported = db.prepare(
      `UPDATE devices SET ota_version = '0.9.1', running_version = ?, last_contact = ?,
         update_response_code = ?, update_response_at = ? WHERE id = ?`,
    );
    const start = Date.now() - 2 * 86_400_000;
    const now = new Date().toISOString();
    db.transaction(() => {
      for (let i = 1; i <= count; i++) {
        const id = newObjectId();
        devices.insert({
          id,
          owner,
          name: `${prefix}-${String(i).padStart(6, '0')}`,
          tokenHash: hashSecret(randomBytes(12).toString('hex')),
          // Increasing: the list (newest first) shows the last seeded first.
          createdAt: new Date(start + i).toISOString(),
          chip: null,
        });
        const { running, response } = report(i);
        if (running !== null)
          reported.run(running, now, response, response === null ? null : now, id);
      }
    })();
  } finally {
    db.close();
  }
}
