import type { ParsedUrlQuery } from 'node:querystring';
import { Messages, badRequest } from '../../errors.js';
import { OBJECT_ID } from '../../../contract/ids.js';

/** `?group=<id>`: one group's devices; absent or empty, all of them. 400 for anything else. */
export function parseGroupFilter(query: ParsedUrlQuery): string | null {
  const value = query.group;
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string' || !OBJECT_ID.test(value)) {
    throw badRequest(Messages.queryInvalid('group', 'a group ID (24 hex characters)'));
  }
  return value;
}
