import { Messages, badRequest } from '../../errors.js';

/**
 * The `force` flag of an upload (a form field, so a string) or of a JSON body (a boolean):
 * absent means false; anything but true/false/1/0 is refused rather than guessed.
 */
export function parseForce(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw badRequest(Messages.forceInvalid);
}
