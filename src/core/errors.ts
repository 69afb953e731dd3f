/**
 * Every error the server answers with is an AppError of one kind; the kind decides the HTTP status
 * in exactly one place (STATUS below), and the error handler in http/ turns it into the JSON body.
 */
export type ErrorKind =
  | 'bad_request'
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'misdirected'
  | 'conflict'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'locked'
  | 'too_many_requests'
  | 'internal'
  | 'unavailable';

export const STATUS: Record<ErrorKind, number> = {
  bad_request: 400,
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  misdirected: 421,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  locked: 423,
  too_many_requests: 429,
  internal: 500,
  unavailable: 503,
};

/** One problem with one field of the input: `field` is a dotted path (`drop_options.program_ids.0`). */
export interface FieldError {
  field: string;
  reason: string;
}

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;
  /** Extra members of the error body (e.g. `referenced_by` of a refused delete). */
  readonly details?: Record<string, unknown>;
  constructor(
    kind: ErrorKind,
    message: string,
    opts: { errors?: FieldError[]; headers?: Record<string, string>; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.kind = kind;
    this.errors = opts.errors;
    this.headers = opts.headers;
    this.details = opts.details;
  }
  get status(): number {
    return STATUS[this.kind];
  }
}

/** A 400 about named fields; the message repeats the first so that a bare `message` reader sees it too. */
export function invalid(errors: FieldError[], kind: ErrorKind = 'validation'): AppError {
  const first = errors[0];
  const message = first ? `${first.field}: ${first.reason}` : 'invalid input';
  return new AppError(kind, message, { errors });
}

export const notFound = (what: string, id: string) => new AppError('not_found', `${what} ${id} not found`);

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
