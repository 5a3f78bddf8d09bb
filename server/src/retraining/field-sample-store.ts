// The FieldSampleStore seam: sampled device inputs with predictions and feedback labels, for retraining.

/**
 * Where a sample's label came from [WIRE-2.4]: `app` (the embedding app called agent.feedback), `local-api`
 * (the agent's local POST /v1/feedback, token-guarded), both said by the agent; `operator` (set on the server
 * by an operator, never by a device); `unknown` (an agent older than the field sent the label).
 */
export const FEEDBACK_SOURCES = ['app', 'local-api', 'operator', 'unknown'] as const;
export type FeedbackSource = (typeof FEEDBACK_SOURCES)[number];

/** One sampled inference from a device, as stored. */
export interface FieldSample {
  deviceId: string;
  predictionId: string;
  /** The device's tags when the sample arrived (its cohorts). */
  cohorts: string[];
  /** Model name the device ran (from its reported state); 'unknown' before any report. */
  model: string;
  /** Raw float32 input values, little-endian. */
  input: Uint8Array;
  shape: number[];
  prediction: number;
  confidence: number;
  /** True class index from feedback, or null while unlabelled. */
  label: number | null;
  /** Where the label came from; null while unlabelled. */
  source: FeedbackSource | null;
  /** When the device made the prediction (ISO 8601). */
  at: string;
}

export interface LabelledQuery {
  cohort?: string;
  model?: string;
  /** ISO time; only samples predicted at or after it. */
  since?: string;
  /** Only labels from these sources (all when absent). */
  sources?: readonly FeedbackSource[];
  /** Most rows returned (newest first are kept; rows come back oldest first). */
  limit: number;
}

/** A sample as listed (GET /retraining/samples): everything but its input bytes. */
export type FieldSampleInfo = Omit<FieldSample, 'input'> & { inputBytes: number };

export interface SampleListQuery {
  model?: string;
  deviceId?: string;
  source?: FeedbackSource;
  /** Only labelled (true) or unlabelled (false) samples. */
  labelled?: boolean;
  /** Most rows returned, newest (by `at`) first. */
  limit: number;
}

/** An operator's label for a stored sample. */
export interface OperatorLabel {
  deviceId: string;
  predictionId: string;
  label: number;
}

export interface FieldSampleStore {
  /**
   * Inserts samples; a (device, predictionId) already stored is kept as is, or gains its label (and that
   * label's source). Returns rows newly inserted.
   */
  insertMany(samples: readonly FieldSample[]): Promise<number>;
  /** Labelled samples, oldest first (by `at`, then device and prediction id for a stable order). */
  labelled(q: LabelledQuery): Promise<FieldSample[]>;
  countLabelled(q: Omit<LabelledQuery, 'limit'>): Promise<number>;
  /**
   * Retention: deletes samples the server received before `receivedBefore` (ms since the epoch; the server's
   * clock, not the device's `at`), then the oldest received until their inputs total at most `maxBytes`.
   * Returns rows deleted.
   */
  prune(o: { receivedBefore: number; maxBytes: number }): Promise<number>;
  /** Samples newest first (by `at`, then device and prediction id descending), without their inputs. */
  list(q: SampleListQuery): Promise<FieldSampleInfo[]>;
  /** Sets operator labels (source `operator`), replacing a device's; returns how many samples were found. */
  relabel(labels: readonly OperatorLabel[]): Promise<number>;
  /**
   * Input bytes stored for one device and model that the server received at or after `sinceMs` (its clock):
   * what that device already spent of its sample budget, read after a restart emptied the admission's memory.
   */
  bytesReceived(deviceId: string, model: string, sinceMs: number): Promise<number>;
}
