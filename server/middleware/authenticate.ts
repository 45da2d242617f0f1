import type { Context, Next } from 'koa';
import { unauthorized } from '../errors.js';
import type { AuthService } from '../services/auth-service.js';
import type { User } from '../storage/sqlite/users.js';

export interface AuthState {
  user: User;
}

/** The secret of an `Authorization: Bearer <secret>` header, or undefined. */
export function bearerSecret(ctx: Context): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('Authorization'))?.[1];
}

/** `Authorization: Bearer <API key or session token>`, else 401 before any route runs. */
export function authenticate(auth: AuthService) {
  return async function authenticateMiddleware(ctx: Context, next: Next): Promise<void> {
    const secret = bearerSecret(ctx);
    if (secret === undefined) throw unauthorized();
    ctx.state.user = auth.authenticate(secret);
    await next();
  };
}
