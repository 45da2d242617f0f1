import 'koa';

declare module 'koa' {
  interface Request {
    /** Set by the JSON body parser (http/json-body.ts) or by multer (text fields). */
    body?: unknown;
  }
}
