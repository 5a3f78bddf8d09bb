// A throwaway S3-compatible server for tests: s3rver (the S3 REST API in Node, files on disk) on a
// free loopback port, checking request signatures against its fixed credentials.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** Credentials s3rver accepts, as the environment an S3 client reads them. */
  env: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
  /** The folder s3rver keeps objects in (tests tamper with it). */
  directory: string;
  /** `s3://bucket/prefix?endpoint=...` for `--blobs`. */
  url(prefix?: string): string;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'flotilla-test'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'flotilla-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const addr = (await server.run()) as { address: string; port: number };
  const endpoint = `http://127.0.0.1:${addr.port}`;
  return {
    endpoint,
    bucket,
    directory,
    env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    url: (prefix = '') => `s3://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1`,
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
