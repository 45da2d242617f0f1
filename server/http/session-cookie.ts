import type { Context } from 'koa';
import { Messages, forbidden } from '../errors.js';

/**
 * The dashboard's session: the login's session token in a cookie that page scripts cannot read
 * (`HttpOnly`) and that browsers send only with requests from the registry's own pages
 * (`SameSite=Strict`). The API accepts it wherever it accepts `Authorization: Bearer`.
 */
const SESSION_COOKIE = 'ota_session';

/** Session tokens are `ota_ses_` and base64url: nothing a cookie value has to escape. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * `Secure` when the browser reached us over HTTPS: the socket's TLS, or, with --trust-proxy,
 * `X-Forwarded-Proto: https` from the proxy (Koa's ctx.secure reads it only when app.proxy is set).
 * Over plain HTTP (localhost, a LAN) a Secure cookie would never come back.
 */
function attributes(ctx: Context): string {
  return `Path=/; HttpOnly; SameSite=Strict${ctx.secure ? '; Secure' : ''}`;
}

export function setSessionCookie(ctx: Context, token: string): void {
  ctx.append('Set-Cookie', `${SESSION_COOKIE}=${token}; ${attributes(ctx)}`);
}

export function clearSessionCookie(ctx: Context): void {
  ctx.append('Set-Cookie', `${SESSION_COOKIE}=; Max-Age=0; ${attributes(ctx)}`);
}

/** The session token the request's cookie carries, or undefined. */
export function sessionCookie(ctx: Context): string | undefined {
  for (const part of ctx.get('Cookie').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return COOKIE_VALUE.test(value) ? value : undefined;
  }
  return undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * For requests a cookie authenticates (and logins that ask for one): a request that changes
 * something must come from the registry's own pages. Browsers say where a request comes from
 * in `Sec-Fetch-Site` and `Origin`; either one naming another site, or both missing (no browser
 * sends a cross-origin POST without Origin), is refused. SameSite=Strict already keeps other
 * sites' requests from carrying the cookie; this holds even where a browser or a proxy does not.
 */
export function refuseCrossSite(ctx: Context): void {
  if (SAFE_METHODS.has(ctx.method)) return;
  const site = ctx.get('Sec-Fetch-Site');
  const origin = ctx.get('Origin');
  if (site !== '' && site !== 'same-origin') throw forbidden(Messages.crossSiteRefused);
  // Koa 3's ctx.origin echoes the Origin header: compare with our own scheme and host instead
  // (X-Forwarded-Proto / X-Forwarded-Host with --trust-proxy, as the browser saw them).
  const ours = `${ctx.protocol}://${ctx.host}`;
  if (origin !== '' && origin !== ours) throw forbidden(Messages.crossSiteRefused);
  if (site === '' && origin === '') throw forbidden(Messages.crossSiteRefused);
}
