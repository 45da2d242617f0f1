import { createHash } from 'node:crypto';

/** Hex digests as the registry reports them (x-MD5, ETag, the API's md5 and sha256 fields). */
export const md5 = (bytes: Buffer): string => createHash('md5').update(bytes).digest('hex');
export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
