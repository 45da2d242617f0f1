/**
 * When and how long to wait before asking the registry again. Only answers that may succeed
 * on a second try are retried: network errors, 5xx and 429. Any other 4xx is the caller's
 * mistake and repeating it would only hide the message.
 */
export interface Backoff {
  /** Delay before the first retry; doubled for each one after. */
  baseDelayMs: number;
  /** Ceiling for the doubled delay. */
  maxDelayMs: number;
  /** Ceiling for a server's Retry-After, so a misconfigured proxy cannot park CI for hours. */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = {
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Milliseconds to wait before retry number `retry` (0 for the first retry): the server's
 * Retry-After when it sent a usable one, else `baseDelayMs * 2^retry`, both capped.
 */
export function retryDelay(
  retry: number,
  backoff: Backoff,
  retryAfter: string | null = null,
  now: number = Date.now(),
): number {
  const asked = retryAfter === null ? undefined : parseRetryAfter(retryAfter, now);
  if (asked !== undefined) return Math.min(asked, backoff.maxRetryAfterMs);
  return Math.min(backoff.baseDelayMs * 2 ** retry, backoff.maxDelayMs);
}

/** Retry-After is either delay-seconds or an HTTP-date (RFC 9110, 10.2.3). */
function parseRetryAfter(value: string, now: number = Date.now()): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
