import { Messages, badRequest } from '../../errors.js';

/**
 * A true/false flag of an upload (a form field, so a string) or of a JSON body (a boolean):
 * undefined when absent; anything but true/false/1/0 is refused rather than guessed.
 */
function parseFlag(value: unknown, invalid: string): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw badRequest(invalid);
}

/** `force`: absent means false. */
export function parseForce(value: unknown): boolean {
  return parseFlag(value, Messages.forceInvalid) ?? false;
}

/** An upload's `trigger`: absent (undefined) means the registry's default (docs/push.md). */
export function parseTrigger(value: unknown): boolean | undefined {
  return parseFlag(value, Messages.triggerInvalid);
}
