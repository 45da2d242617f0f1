import type { Context, Next } from 'koa';
import { HttpError } from '../errors.js';
import type { RegistryMetrics } from '../metrics/registry-metrics.js';

/** Counts each upload that got past authentication in `ota_uploads_total{result}`. */
export function countUploads(metrics: RegistryMetrics) {
  return async function countUploadsMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      metrics.countUpload(ctx.status === 201 ? 'deployed' : 'unchanged');
    } catch (err) {
      const status = err instanceof HttpError ? err.status : (err as { status?: number }).status;
      metrics.countUpload(status !== undefined && status < 500 ? 'rejected' : 'failed');
      throw err;
    }
  };
}
