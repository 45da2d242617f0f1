import type { Context, Next } from 'koa';
import { unauthorized } from '../errors.js';
import type { AuthService } from '../services/auth-service.js';
import type { User } from '../storage/sqlite/users.js';

export interface AuthState {
  user: User;
}

/** `Authorization: Bearer <API key or session token>`, else 401 before any route runs. */
export function authenticate(auth: AuthService) {
  return async function authenticateMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.state.user = auth.authenticate(bearerSecret(ctx));
    await next();
  };
}

/** The secret of `Authorization: Bearer <secret>`; 401 when there is none. */
export function bearerSecret(ctx: Context): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('Authorization'));
  if (!match) throw unauthorized();
  return match[1];
}
