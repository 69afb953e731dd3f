import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS, isAppError, type ErrorKind, type FieldError } from '../core/errors.js';
import { toFieldErrors } from '../resources/kit/validation.js';

/**
 * The one error handler: every error becomes `{ statusCode, error, code, message, errors?, requestId }`.
 * 4xx say what was wrong and with which field; 5xx say nothing of the cause (it is logged instead).
 */
const PHRASE: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function body(status: number, code: string, message: string, requestId: string, errors?: FieldError[], details?: Record<string, unknown>) {
  return {
    statusCode: status,
    error: PHRASE[status] ?? 'Error',
    code,
    message,
    ...(errors?.length ? { errors } : {}),
    ...details,
    requestId,
  };
}

/** Fastify's own client errors (parsing, limits, content types) by code. */
const FASTIFY_CODES: Record<string, { kind: ErrorKind; message?: string; field?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { kind: 'bad_request', message: 'the body is not valid JSON', field: '(body)' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { kind: 'bad_request', message: 'the body is empty', field: '(body)' },
  FST_ERR_CTP_BODY_TOO_LARGE: { kind: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { kind: 'unsupported_media_type', message: 'send the body as application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { kind: 'bad_request', message: 'Content-Length does not match the body' },
  FST_ERR_CTP_INVALID_TYPE: { kind: 'bad_request', message: 'invalid Content-Type header' },
};

/** Errors the router raises before any route runs (a malformed URL): the same JSON body. */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
  reply.header('x-request-id', String(req.id));
  const message = err.code === 'FST_ERR_BAD_URL' ? 'the URL is malformed (bad percent-encoding)' : err.message;
  reply.code(status).send(body(status, 'bad_request', message, String(req.id), [{ field: 'url', reason: message }]));
}

export function installErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const rid = String(req.id);
    if (isAppError(err)) {
      if (err.headers) reply.headers(err.headers);
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      return reply.code(err.status).send(body(err.status, err.kind, err.message, rid, err.errors, err.details));
    }
    if (err.validation) {
      const part = err.validationContext ?? 'body';
      const errors = toFieldErrors(err.validation as any).map((e) => ({
        field: part === 'body' ? e.field : e.field === '(body)' ? part : e.field,
        reason: e.reason,
      }));
      const first = errors[0];
      return reply.code(400).send(body(400, 'validation', first ? `${first.field}: ${first.reason}` : 'invalid request', rid, errors));
    }
    const known = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (known) {
      const status = STATUS[known.kind];
      const message = known.message ?? err.message;
      return reply
        .code(status)
        .send(body(status, known.kind, message, rid, known.field ? [{ field: known.field, reason: message }] : undefined));
    }
    // Malformed JSON surfaces as a SyntaxError with statusCode 400 from the parser.
    if (err instanceof SyntaxError || (err as any).statusCode === 400) {
      return reply
        .code(400)
        .send(body(400, 'bad_request', 'the body is not valid JSON', rid, [{ field: '(body)', reason: 'is not valid JSON' }]));
    }
    const sc = (err as any).statusCode;
    if (typeof sc === 'number' && sc >= 400 && sc < 500) {
      const field = sc === 414 ? 'url' : '(request)';
      return reply.code(sc).send(body(sc, 'bad_request', err.message, rid, [{ field, reason: err.message }]));
    }
    // The database is slow or away: a temporary condition, worth a retry.
    if (
      err.code === '57014' ||
      err.code === 'ECONNREFUSED' ||
      err.code === '57P01' ||
      /timeout exceeded when trying to connect/.test(err.message)
    ) {
      req.log.error({ err }, 'database unavailable');
      reply.header('retry-after', '1');
      return reply.code(503).send(body(503, 'unavailable', 'the database did not answer in time; retry', rid));
    }
    // SQLite allows one writer at a time: another process (a second `--workers` process, the CLI)
    // held the write lock beyond SQLITE_BUSY_TIMEOUT_MS. Nothing was written; the client retries.
    if (typeof err.code === 'string' && (err.code.startsWith('SQLITE_BUSY') || err.code.startsWith('SQLITE_LOCKED'))) {
      req.log.warn({ err }, 'SQLite write lock busy');
      reply.header('retry-after', '1');
      return reply
        .code(429)
        .send(
          body(
            429,
            'too_many_requests',
            'the database is busy with other writes (SQLite takes one writer at a time); nothing was written, retry',
            rid,
          ),
        );
    }
    req.log.error({ err }, 'unexpected error');
    return reply.code(500).send(body(500, 'internal', `internal error; quote request id ${rid} when reporting it`, rid));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(body(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`, String(req.id)));
  });
}
