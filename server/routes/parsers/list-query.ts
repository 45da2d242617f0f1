import type { ParsedUrlQuery } from 'node:querystring';
import { Messages, badRequest } from '../../errors.js';
import type { ListQuery } from '../../storage/list-query.js';

const MAX_LIMIT = 1000;
const MAX_OFFSET = 1_000_000_000;
const MAX_SEARCH = 200;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

function single(query: ParsedUrlQuery, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw badRequest(Messages.queryInvalid(name, 'a single value'));
  return value;
}

function integer(
  query: ParsedUrlQuery,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = single(query, name);
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw badRequest(Messages.queryInvalid(name, `an integer from ${min} to ${max}`));
  }
  return Number(value);
}

/** `search_value`, `offset`, `limit`, `order_dir` as every list endpoint takes them; 400 names a bad one. */
export function parseListQuery(query: ParsedUrlQuery): ListQuery & { draw: string | null } {
  const search = single(query, 'search_value');
  if (search !== undefined && search.length > MAX_SEARCH) {
    throw badRequest(Messages.queryInvalid('search_value', `at most ${MAX_SEARCH} characters`));
  }
  // NUL ends SQLite's full-text query early ("unterminated string": it answered 500), and what
  // SQLite's text functions do past a NUL is not a literal match either. Ids and versions never
  // hold control characters; searching names for one is refused too, with a clear 400.
  if (search !== undefined && CONTROL.test(search)) {
    throw badRequest(Messages.queryInvalid('search_value', 'text without control characters'));
  }
  const orderDir = (single(query, 'order_dir') ?? 'desc').toLowerCase();
  if (orderDir !== 'asc' && orderDir !== 'desc')
    throw badRequest(Messages.queryInvalid('order_dir', 'asc or desc'));
  const draw = single(query, 'draw');
  return {
    search: search ? search.toLowerCase() : null,
    offset: integer(query, 'offset', 0, 0, MAX_OFFSET),
    limit: integer(query, 'limit', 10, 1, MAX_LIMIT),
    orderDir,
    draw: draw ?? null,
  };
}
