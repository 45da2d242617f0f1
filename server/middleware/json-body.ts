import type { Context, Next } from 'koa';
import { HttpError, Messages, badRequest } from '../errors.js';

const LIMIT = 64 * 1024;

/**
 * Parses a JSON request body into ctx.request.body (an object, or {} when there is none).
 * Small on purpose: management requests are a few fields.
 */
export async function jsonBody(ctx: Context, next: Next): Promise<void> {
  const hasBody = (ctx.request.length ?? 0) > 0 || ctx.get('Transfer-Encoding') !== '';
  if (!hasBody) {
    ctx.request.body = {};
    return next();
  }
  if (!ctx.request.is('json')) throw badRequest(Messages.jsonExpected);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > LIMIT) throw new HttpError(413, Messages.bodyTooLarge);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw badRequest(Messages.malformedJson);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw badRequest(Messages.malformedJson);
  ctx.request.body = parsed;
  return next();
}
