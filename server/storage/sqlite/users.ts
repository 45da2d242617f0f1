import type { Db } from './database.js';

export type Role = 'admin' | 'user';

export interface User {
  id: string;
  email: string;
  role: Role;
  passwordHash: string | null;
  createdAt: string;
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
  password_hash: string | null;
  created_at: string;
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  role: row.role,
  passwordHash: row.password_hash,
  createdAt: row.created_at,
});

export class UserStore {
  private readonly insertStmt;
  private readonly byEmailStmt;
  private readonly byIdStmt;
  private readonly countStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      'INSERT INTO users (id, email, role, password_hash, created_at) VALUES (@id, @email, @role, @passwordHash, @createdAt)',
    );
    this.byEmailStmt = db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ?');
    this.byIdStmt = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?');
    this.countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users');
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
}
