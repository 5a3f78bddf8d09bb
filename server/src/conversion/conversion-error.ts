// Errors of conversion requests, with stable codes and the HTTP status the API answers with.
import { DomainError, statusTable } from '../errors/domain-error.ts';

const STATUSES = statusTable({
  400: ['CALIBRATION_REQUIRED', 'INVALID_MODEL_NAME'],
  404: ['NOT_FOUND'],
  409: ['DATASET_MISSING', 'ARTIFACT_MISSING'],
  413: ['PAYLOAD_TOO_LARGE'],
});

export type ConversionErrorCode = keyof typeof STATUSES;

export class ConversionError extends DomainError<string> {
  /**
   * `code` is one of the table's, or what the conversion worker refused a model with (a ConvertError
   * code, or CONVERSION_FAILED): the model, not the server, is at fault, so those are 400s.
   */
  constructor(code: ConversionErrorCode | (string & {}), message: string) {
    super(code, message, undefined, STATUSES[code as ConversionErrorCode] ?? 400);
  }
}
