// A minimal S3 client (HEAD, GET with Range, PUT) over fetch with AWS Signature V4 (the `aws4`
// package). Enough for content-addressed blobs; works with AWS S3, MinIO, Ceph RGW, s3rver.
import aws4 from 'aws4';

export interface S3Location {
  /** `http(s)://host:port` of the S3 endpoint; AWS when absent (`https://s3.<region>.amazonaws.com`). */
  endpoint: string;
  region: string;
  bucket: string;
  /** Key prefix inside the bucket, '' or ending with '/'. */
  prefix: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * Parses `s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1`; credentials come from
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), as every S3 tool reads them.
 */
export function parseS3Url(url: string, env: NodeJS.ProcessEnv = process.env): S3Location {
  const u = new URL(url);
  if (u.protocol !== 's3:' || !u.hostname) throw new Error(`blob store '${url}' is not s3://BUCKET[/PREFIX][?endpoint=URL&region=R]`);
  const region = u.searchParams.get('region') ?? env.AWS_REGION ?? 'us-east-1';
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey)
    throw new Error('an s3:// blob store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment');
  const prefix = decodeURIComponent(u.pathname.replace(/^\/+/, ''));
  return {
    endpoint: (u.searchParams.get('endpoint') ?? `https://s3.${region}.amazonaws.com`).replace(/\/+$/, ''),
    region,
    bucket: u.hostname,
    prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix,
    credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN },
  };
}

export class S3Error extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class S3Client {
  constructor(private readonly loc: S3Location) {}

  /** Size of the object, or null when it does not exist. */
  async head(key: string): Promise<number | null> {
    const res = await this.send('HEAD', key);
    if (res.status === 404) return null;
    await this.check(res, 'HEAD', key);
    return Number(res.headers.get('content-length') ?? 0);
  }

  /** The object (or an inclusive byte range of it), or null when it does not exist. */
  async get(key: string, range?: { start: number; end: number }): Promise<Response | null> {
    const res = await this.send('GET', key, undefined, range ? { range: `bytes=${range.start}-${range.end}` } : {});
    if (res.status === 404) return null;
    await this.check(res, 'GET', key);
    return res;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const res = await this.send('PUT', key, body, { 'content-type': 'application/octet-stream' });
    await this.check(res, 'PUT', key);
    await res.arrayBuffer();
  }

  private send(method: string, key: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
    const base = new URL(this.loc.endpoint);
    // Path-style addressing (`/bucket/key`): every S3-compatible server supports it, virtual hosts need DNS.
    const path = `${base.pathname.replace(/\/+$/, '')}/${this.loc.bucket}/${(this.loc.prefix + key).split('/').map(encodeURIComponent).join('/')}`;
    const opts = aws4.sign(
      {
        host: base.host,
        path,
        method,
        service: 's3',
        region: this.loc.region,
        body: body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : undefined,
        headers: { ...headers, ...(body ? { 'content-length': String(body.byteLength) } : {}) },
      },
      this.loc.credentials,
    );
    return fetch(`${base.protocol}//${base.host}${path}`, {
      method,
      headers: opts.headers as Record<string, string>,
      body: body as BodyInit | undefined,
    });
  }

  private async check(res: Response, method: string, key: string): Promise<void> {
    if (res.ok) return;
    const text = method === 'HEAD' ? '' : await res.text().catch(() => '');
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw new S3Error(
      res.status,
      `S3 ${method} ${this.loc.bucket}/${this.loc.prefix}${key} failed: ${res.status}${code ? ` ${code}` : ''}`,
    );
  }
}
