// @ts-check
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** s3rver accepts any request signed with these. */
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
const BUCKET = 'bench';

/**
 * s3rver (a devDependency) in this process on a free loopback port, with one bucket: the S3
 * store of the bench's S3 phase. `env(prefix)` is what a registry storing firmware there reads;
 * `put(prefix, sha256, bytes)` stores an image as the registry names it (seeding).
 *
 * @param {string} dir where s3rver keeps its objects
 */
export async function startS3(dir) {
  // s3rver ships no types: loaded by a name TypeScript does not resolve.
  const load = createRequire(import.meta.url);
  const S3rver = load('s3rver');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: {
      accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID,
      secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    /**
     * What a registry storing firmware under `prefix` adds to its environment.
     *
     * @param {string} prefix
     * @returns {NodeJS.ProcessEnv}
     */
    env: (prefix) => ({
      ...CREDENTIALS,
      OTA_STORAGE_URL: `s3://${BUCKET}/${prefix}`,
      OTA_S3_ENDPOINT: endpoint,
    }),
    /**
     * @param {string} prefix
     * @param {string} sha256
     * @param {Buffer} bytes
     */
    put: (prefix, sha256, bytes) =>
      client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/firmware/${sha256}`, Body: bytes }),
      ),
    async stop() {
      client.destroy();
      server.httpServer?.closeAllConnections();
      await server.close();
      fs.rmSync(path.join(dir, BUCKET), { recursive: true, force: true });
    },
  };
}
