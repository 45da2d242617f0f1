import type { Db } from './database.js';

export type Role = 'admin' | 'user';

export interface User {
  id: string;
  email: string;
  role: Role;
  passwordHash: string | null;
  createdAt: string;
  /** The MQTT user name its devices log in with (the `<user>` of their topics); null: none. */
  mqttUser: string | null;
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
  password_hash: string | null;
  created_at: string;
  mqtt_user: string | null;
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  role: row.role,
  passwordHash: row.password_hash,
  createdAt: row.created_at,
  mqttUser: row.mqtt_user,
});

export class UserStore {
  private readonly insertStmt;
  private readonly byEmailStmt;
  private readonly byIdStmt;
  private readonly countStmt;
  private readonly setMqttUserStmt;
  private readonly byMqttUserStmt;
  private readonly mqttUsersStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO users (id, email, role, password_hash, created_at, mqtt_user)
       VALUES (@id, @email, @role, @passwordHash, @createdAt, @mqttUser)`,
    );
    this.byEmailStmt = db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ?');
    this.byIdStmt = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?');
    this.countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users');
    this.setMqttUserStmt = db.prepare('UPDATE users SET mqtt_user = ? WHERE id = ?');
    this.byMqttUserStmt = db.prepare<[string], UserRow>('SELECT * FROM users WHERE mqtt_user = ?');
    this.mqttUsersStmt = db
      .prepare<[], string>('SELECT mqtt_user FROM users WHERE mqtt_user IS NOT NULL')
      .pluck();
  }

  insert(user: User): void {
    this.insertStmt.run(user);
  }

  byEmail(email: string): User | undefined {
    const row = this.byEmailStmt.get(email);
    return row && toUser(row);
  }

  byId(id: string): User | undefined {
    const row = this.byIdStmt.get(id);
    return row && toUser(row);
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  setMqttUser(id: string, mqttUser: string | null): void {
    this.setMqttUserStmt.run(mqttUser, id);
  }

  byMqttUser(mqttUser: string): User | undefined {
    const row = this.byMqttUserStmt.get(mqttUser);
    return row && toUser(row);
  }

  /** Every MQTT user name an account has set. */
  mqttUsers(): string[] {
    return this.mqttUsersStmt.all();
  }
}
