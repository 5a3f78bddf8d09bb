// Download URLs for an outside trainer (issue 17): while a retraining job's trainer runs, its files (rows and
// labels as .npy, the CSV, the held-out split, the champion's ONNX) can be fetched over HTTP with a token made
// for that job alone. The token is random, kept only as its hash, read-only, good for that job's files and
// nothing else (the operator-token check does not know it), and dies when the trainer finishes or its time
// limit passes, whichever is first. The shelf lives in the process that runs the job; its URLs name that process.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { RetrainingError } from './retraining-error.ts';

/** Prefix of job download tokens, so a log line or an error can tell them from operator tokens. */
export const TRAINER_TOKEN_PREFIX = 'ftj_';

/** One file a trainer may download: its name in the URL, its bytes and media type. */
export interface TrainerFile {
  name: string;
  bytes: Uint8Array;
  contentType: string;
}

/** What the trainer is told: where each file is (`key` → URL), the token and when it stops working. */
export interface TrainerDownloads {
  urls: Record<string, string>;
  token: string;
  expiresAt: string;
}

interface Shelved {
  tokenHash: Buffer;
  expiresAt: number;
  files: Map<string, TrainerFile>;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

export class TrainerFileShelf {
  private readonly jobs = new Map<string, Shelved>();

  /**
   * `base`: the API's URL prefix (`http://host:port/api/v1`), or a function giving it once the server
   * listens; without one no URLs are made (a service without HTTP, as in unit tests).
   */
  constructor(
    private readonly base: string | (() => string | null) | null,
    private readonly now: () => number = Date.now,
  ) {}

  /** The API prefix download URLs start with, or null when this process serves none. */
  baseUrl(): string | null {
    const b = typeof this.base === 'function' ? this.base() : this.base;
    return b ? b.replace(/\/+$/, '') : null;
  }

  /** Puts a job's files up for download until `ttlMs` from now (or `withdraw`); null when there is no base URL. */
  offer(jobId: string, files: Record<string, TrainerFile>, ttlMs: number): TrainerDownloads | null {
    const base = this.baseUrl();
    if (!base) return null;
    const token = `${TRAINER_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = this.now() + ttlMs;
    this.jobs.set(jobId, { tokenHash: sha256(token), expiresAt, files: new Map(Object.values(files).map((f) => [f.name, f])) });
    const urls = Object.fromEntries(
      Object.entries(files).map(([k, f]) => [
        k,
        `${base}/retraining/jobs/${encodeURIComponent(jobId)}/files/${encodeURIComponent(f.name)}`,
      ]),
    );
    return { urls, token, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Ends a job's downloads: its token stops working at once. */
  withdraw(jobId: string): void {
    this.jobs.delete(jobId);
  }

  /**
   * The file `name` of job `jobId` for a caller holding `token`. A missing, wrong or expired token, or a job
   * whose trainer has finished, is TRAINER_TOKEN_INVALID (401) with the same message, so a caller learns
   * nothing about which jobs exist; a good token and an unknown name is NOT_FOUND.
   */
  open(jobId: string, name: string, token: string | undefined): TrainerFile {
    const job = this.jobs.get(jobId);
    const refuse = () =>
      new RetrainingError(
        'TRAINER_TOKEN_INVALID',
        `no running trainer of job '${jobId}' gave this token, or it expired (tokens last while the trainer runs, at most its timeoutSec): send Authorization: Bearer <download.token from the job's manifest>`,
      );
    if (!token || !job) throw refuse();
    const given = sha256(token);
    if (!timingSafeEqual(given, job.tokenHash)) throw refuse();
    if (this.now() >= job.expiresAt) {
      this.jobs.delete(jobId);
      throw refuse();
    }
    const f = job.files.get(name);
    if (!f) throw RetrainingError.notFound('trainer file', `${name} (job ${jobId} has ${[...job.files.keys()].join(', ')})`);
    return f;
  }
}
