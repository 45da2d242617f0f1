import { HttpError, Messages } from '../errors.js';
import { nowIso } from '../ids.js';
import type { LoginFailureStore } from '../storage/sqlite/login-failures.js';

/** API.md: 10 failures per email, 50 per client address, within 15 minutes. */
const LOGIN_LIMITS = { perEmail: 10, perAddress: 50, windowMs: 15 * 60 * 1000 } as const;

/**
 * Password hashes computed at once. scrypt runs on libuv's thread pool (4 threads), which file
 * reads and writes share: a login flood must not take all of it from uploads and downloads.
 */
const CONCURRENT_HASHES = 2;
/** Logins waiting for a hash slot; beyond this a login is turned away at once (429). */
const MAX_WAITING = 64;

/**
 * Login throttling. The counts live in the database, so every `serve --workers` process sees
 * the same failures; a throttled login costs no password hash.
 */
export class LoginThrottle {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly failures: LoginFailureStore) {}

  /** 429 with Retry-After while this email or this address is over its limit. */
  check(email: string, address: string, now: number = Date.now()): void {
    const since = nowIso(now - LOGIN_LIMITS.windowMs);
    const blockers = [
      this.failures.nthByEmail(email, since, LOGIN_LIMITS.perEmail),
      this.failures.nthByAddress(address, since, LOGIN_LIMITS.perAddress),
    ].filter((at): at is string => at !== undefined);
    if (blockers.length === 0) return;
    const lifts = Math.max(...blockers.map((at) => Date.parse(at) + LOGIN_LIMITS.windowMs));
    throw tooMany(Math.ceil((lifts - now) / 1000));
  }

  failed(email: string, address: string, now: number = Date.now()): void {
    this.failures.add(email, address, nowIso(now), nowIso(now - LOGIN_LIMITS.windowMs));
  }

  /** Runs `hash` when one of the few hash slots is free; 429 when too many already wait. */
  async limited<T>(hash: () => Promise<T>): Promise<T> {
    if (this.running >= CONCURRENT_HASHES) {
      if (this.waiting.length >= MAX_WAITING) throw tooMany(1);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await hash();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter; otherwise it is freed.
      if (next) next();
      else this.running--;
    }
  }
}

function tooMany(retryAfterSeconds: number): HttpError {
  return new HttpError(
    429,
    Messages.tooManyLogins,
    {},
    {
      'Retry-After': String(Math.max(1, retryAfterSeconds)),
    },
  );
}
