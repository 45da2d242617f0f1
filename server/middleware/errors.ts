import type { Context, Next } from 'koa';
import { HttpError, Messages } from '../errors.js';
import { logError } from '../log.js';

/**
 * First in the chain: every failure becomes JSON `{"message"}`. HttpErrors carry a message
 * meant for the client; anything else is a bug or an I/O failure, logged here and answered
 * with a generic 500 so no stack trace or path leaks.
 */
export async function errorMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    // Answers nobody wrote a body for: no route (404), the router's 405/501.
    if (ctx.status >= 400 && ctx.body == null) {
      const status = ctx.status;
      ctx.body = { message: status === 404 ? Messages.notFound : ctx.message };
      ctx.status = status;
    }
  } catch (err) {
    if (err instanceof HttpError) {
      ctx.set(err.headers);
      ctx.status = err.status;
      ctx.body = { message: err.message, ...err.extra };
      return;
    }
    const status = (err as { status?: unknown }).status;
    const expose = (err as { expose?: unknown }).expose;
    if (typeof status === 'number' && status >= 400 && status < 500 && expose) {
      // Koa's and the router's own client errors (e.g. 405 from allowedMethods).
      ctx.status = status;
      ctx.body = { message: (err as Error).message };
      return;
    }
    logError(`error ${ctx.method} ${ctx.state.logPath ?? ''}`, err);
    ctx.status = 500;
    ctx.body = { message: Messages.internal };
  }
}
