import type { Context, Next } from 'koa';
import { HttpError, Messages } from '../errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEVICE_PATH,
  REFUSAL_DELAY_MS,
  addressKey,
  type DeviceFailureLimit,
} from '../http/device-failure-limit.js';

/** The answers that mean "no such id, or a wrong token": what a flood of guesses gets. */
const MISSING: ReadonlySet<string> = new Set([Messages.noSuchDevice, Messages.noSuchGroup]);

/** Whether a device request failed for want of a right id or token (counted per address). */
export function targetMissing(err: unknown): boolean {
  return err instanceof HttpError && err.status === 404 && MISSING.has(err.message);
}

/** `429` with `Retry-After` for an address over the device failure limit. */
export function tooManyDeviceFailures(retryAfterSeconds: number): HttpError {
  return new HttpError(
    429,
    Messages.tooManyDeviceFailures,
    {},
    { 'Retry-After': String(retryAfterSeconds) },
  );
}

/**
 * Device requests (`latest`, `download`) that reach Koa: turned away with `429` (after
 * REFUSAL_DELAY_MS) while their address is over the failure limit, before any lookup; a "No such device" (or group) answer, or
 * a device path no route takes, counts against the address. The poll fast path does the same
 * for the `latest` requests it answers and the downloads it turns away (http/poll-fast-path.ts).
 */
export function limitDeviceFailures(failures: DeviceFailureLimit) {
  return async function deviceFailuresMiddleware(ctx: Context, next: Next): Promise<void> {
    if (failures.limit === 0 || !DEVICE_PATH.test(ctx.path)) return next();
    const address = addressKey(ctx.ip);
    const wait = failures.retryAfter(address);
    if (wait > 0) {
      await sleep(REFUSAL_DELAY_MS);
      throw tooManyDeviceFailures(wait);
    }
    try {
      await next();
    } catch (err) {
      if (targetMissing(err)) failures.failed(address);
      throw err;
    }
    if (ctx.status === 404 && ctx.body == null) failures.failed(address);
  };
}
