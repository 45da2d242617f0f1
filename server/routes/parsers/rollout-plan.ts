import { Messages, badRequest } from '../../errors.js';
import type { RolloutPlan } from '../../services/rollout-service.js';

/**
 * The rollout's settings from a JSON body (numbers, arrays) or upload form fields (strings):
 * `phases` `[5,25,100]` or `"5,25,100"`, `halt_after_failures` (default 1), `advance`
 * (`manual`, default, or `auto`), `advance_at` (percent, default 90).
 */
export function parseRolloutPlan(fields: {
  phases: unknown;
  halt_after_failures?: unknown;
  advance?: unknown;
  advance_at?: unknown;
}): RolloutPlan {
  const phases =
    typeof fields.phases === 'string'
      ? fields.phases.split(',').map((part) => (/^\s*\d{1,3}\s*$/.test(part) ? Number(part) : NaN))
      : fields.phases;
  if (
    !Array.isArray(phases) ||
    phases.length === 0 ||
    phases.length > 20 ||
    !phases.every(
      (p, i) => Number.isInteger(p) && p >= 1 && p <= 100 && (i === 0 || p > phases[i - 1]),
    ) ||
    phases.at(-1) !== 100
  ) {
    throw badRequest(Messages.rolloutPhasesInvalid);
  }
  const whole = (value: unknown, name: string, fallback: number, min: number, max: number) => {
    if (value === undefined || value === null || value === '') return fallback;
    const n = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw badRequest(Messages.rolloutFieldInvalid(name, `a whole number from ${min} to ${max}`));
    }
    return n;
  };
  const advance = fields.advance ?? 'manual';
  if (advance !== 'manual' && advance !== 'auto' && advance !== '') {
    throw badRequest(Messages.rolloutFieldInvalid('advance', '"manual" or "auto"'));
  }
  return {
    phases: phases as number[],
    haltAfterFailures: whole(fields.halt_after_failures, 'halt_after_failures', 1, 1, 1_000_000),
    advance: advance === '' ? 'manual' : advance,
    advanceAt: whole(fields.advance_at, 'advance_at', 90, 1, 100),
  };
}
