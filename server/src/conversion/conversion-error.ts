// Errors of conversion requests, with stable codes and the HTTP status the API answers with.
import { DomainError } from '../errors/domain-error.ts';

export type ConversionErrorCode = 'NOT_FOUND' | 'DATASET_MISSING' | 'ARTIFACT_MISSING' | 'CALIBRATION_REQUIRED' | 'INVALID_MODEL_NAME' | 'PAYLOAD_TOO_LARGE';

const STATUSES: Record<ConversionErrorCode, number> = {
  NOT_FOUND: 404,
  DATASET_MISSING: 409,
  ARTIFACT_MISSING: 409,
  CALIBRATION_REQUIRED: 400,
  INVALID_MODEL_NAME: 400,
  PAYLOAD_TOO_LARGE: 413,
};

export class ConversionError extends DomainError<string> {
  /**
   * `code` is one of the table's, or what the conversion worker refused a model with (a ConvertError
   * code, or CONVERSION_FAILED): the model, not the server, is at fault, so those are 400s.
   */
  constructor(code: ConversionErrorCode | (string & {}), message: string) {
    super(code, message, undefined, STATUSES[code as ConversionErrorCode] ?? 400);
  }
}
