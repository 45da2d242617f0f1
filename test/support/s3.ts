import { afterAll, beforeAll } from '@jest/globals';
import fs from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { storeFirmwareWith } from './registry.js';

/** The little of s3rver's API the tests use (it ships no types). */
interface S3rverServer {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: Array<{ name: string }>;
}) => S3rverServer;

const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverClass;

/** s3rver accepts any request signed with these. */
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

export interface TestBucket {
  /** `http://127.0.0.1:<port>`: what OTA_S3_ENDPOINT is set to. */
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps the objects (one directory per bucket). */
  directory: string;
  /** Every request s3rver received, as `METHOD /path?query`. */
  requests: string[];
  /**
   * The environment of a registry storing firmware under `prefix` of the bucket: OTA_STORAGE_URL,
   * OTA_S3_ENDPOINT and the credentials (read by the AWS SDK's standard chain).
   */
  env(prefix?: string): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

let prefixes = 0;

/**
 * s3rver (an S3 implementation in Node) on a free loopback port, with one empty bucket, spoken
 * to through the real AWS SDK. The credentials are also set in this process's environment, where
 * the SDK's standard chain finds them for registries started in-process.
 */
export async function startS3(bucket = 'firmware'): Promise<TestBucket> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const requests: string[] = [];
  server.httpServer?.on('request', (req: IncomingMessage) =>
    requests.push(`${req.method} ${req.url}`),
  );
  Object.assign(process.env, CREDENTIALS);
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    directory,
    requests,
    env: (prefix = `test-${process.pid}-${++prefixes}`) => ({
      ...CREDENTIALS,
      OTA_STORAGE_URL: `s3://${bucket}/${prefix}`,
      OTA_S3_ENDPOINT: endpoint,
    }),
    async close() {
      // Registries keep connections alive to it: close them too, or close() waits for them.
      server.httpServer?.closeAllConnections();
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Runs the registries this test file starts with firmware in s3rver (each under its own
 * prefix), from before its first test to after its last. Call it before the tests are defined.
 */
export function registriesOnS3(): void {
  let s3: TestBucket | undefined;
  storeFirmwareWith(() => {
    if (!s3) throw new Error('s3rver is not running yet: start registries in beforeAll or tests');
    return s3.env();
  });
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(() => s3?.close());
}
