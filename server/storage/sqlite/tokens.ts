import type { Db } from './database.js';

type TokenKind = 'api-key' | 'session';

/** A bearer secret as stored: only its SHA-256 is kept. */
export interface StoredToken {
  hash: string;
  userId: string;
  kind: TokenKind;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

interface TokenRow {
  hash: string;
  user_id: string;
  kind: TokenKind;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export class TokenStore {
  private readonly insertStmt;
  private readonly byHashStmt;
  private readonly revokeStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      'INSERT INTO tokens (hash, user_id, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.byHashStmt = db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE hash = ?');
    this.revokeStmt = db.prepare(
      'UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL',
    );
  }

  insert(token: Omit<StoredToken, 'revokedAt'>): void {
    this.insertStmt.run(token.hash, token.userId, token.kind, token.createdAt, token.expiresAt);
  }

  byHash(hash: string): StoredToken | undefined {
    const row = this.byHashStmt.get(hash);
    return (
      row && {
        hash: row.hash,
        userId: row.user_id,
        kind: row.kind,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        revokedAt: row.revoked_at,
      }
    );
  }

  /** Returns whether a live token was revoked. */
  revoke(hash: string, at: string): boolean {
    return this.revokeStmt.run(at, hash).changes > 0;
  }
}
