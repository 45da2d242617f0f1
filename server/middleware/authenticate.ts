import type { Context, Next } from 'koa';
import { unauthorized } from '../errors.js';
import type { AuthService } from '../services/auth-service.js';
import { refuseCrossSite, sessionCookie } from '../http/session-cookie.js';
import type { User } from '../storage/sqlite/users.js';

export interface AuthState {
  user: User;
}

/** The secret of an `Authorization: Bearer <secret>` header, or undefined. */
export function bearerSecret(ctx: Context): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('Authorization'))?.[1];
}

/**
 * The request's bearer secret: `Authorization: Bearer`, else the dashboard's session cookie
 * (http/session-cookie.ts), which only the registry's own pages may use to change anything.
 */
export function requestSecret(ctx: Context): string | undefined {
  const bearer = bearerSecret(ctx);
  if (bearer !== undefined) return bearer;
  const cookie = sessionCookie(ctx);
  if (cookie !== undefined) refuseCrossSite(ctx);
  return cookie;
}

/** `Authorization: Bearer <API key or session token>` (or the session cookie), else 401 before any route runs. */
export function authenticate(auth: AuthService) {
  return async function authenticateMiddleware(ctx: Context, next: Next): Promise<void> {
    const secret = requestSecret(ctx);
    if (secret === undefined) throw unauthorized();
    ctx.state.user = auth.authenticate(secret);
    await next();
  };
}
