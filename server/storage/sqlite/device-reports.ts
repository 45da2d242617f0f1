import type { Db } from './database.js';

/** What one device last said over MQTT within a flush window, as the recorder writes it. */
export interface DeviceReportRow {
  /** The MQTT user of the topic: the write applies only to a device of the account that has it. */
  mqttUser: string;
  deviceId: string;
  status?: { at: string; version: string | null; uptime: number | null };
  response?: { at: string; code: number };
}

/** The writes behind MQTT reports (services/device-reports.ts). */
export class DeviceReportStore {
  private readonly statusStmt;
  private readonly responseStmt;

  constructor(db: Db) {
    // The owner test is part of the write: a report about another account's device (or an
    // unknown id) changes nothing, without a read per message.
    const mine = 'id = @deviceId AND owner = (SELECT id FROM users WHERE mqtt_user = @mqttUser)';
    this.statusStmt = db.prepare<{
      mqttUser: string;
      deviceId: string;
      at: string;
      version: string | null;
      uptime: number | null;
    }>(
      `UPDATE devices SET
         last_contact = CASE WHEN last_contact IS NULL OR last_contact < @at
                        THEN @at ELSE last_contact END,
         running_md5 = CASE WHEN @version IS NULL OR running_version IS NOT DISTINCT FROM @version
                       THEN running_md5 ELSE NULL END,
         running_version = COALESCE(@version, running_version),
         running_version_source = CASE WHEN @version IS NULL
                                  THEN running_version_source ELSE 'mqtt' END,
         uptime = COALESCE(@uptime, uptime)
       WHERE ${mine}`,
    );
    this.responseStmt = db.prepare<{
      mqttUser: string;
      deviceId: string;
      at: string;
      code: number;
    }>(
      `UPDATE devices SET
         last_contact = CASE WHEN last_contact IS NULL OR last_contact < @at
                        THEN @at ELSE last_contact END,
         update_response_code = @code, update_response_at = @at
       WHERE ${mine}`,
    );
  }

  record({ mqttUser, deviceId, status, response }: DeviceReportRow): void {
    if (response) this.responseStmt.run({ mqttUser, deviceId, ...response });
    if (status) this.statusStmt.run({ mqttUser, deviceId, ...status });
  }
}
