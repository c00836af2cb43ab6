// Every error of the admin API is an RFC 9457 problem document (application/problem+json) with a stable
// `type` URN, a short title and a detail an operator can act on. Client mistakes get a 4xx that says
// what was wrong; anything else is a 500 whose detail says nothing about the server's insides, logged
// here once with the request id so the two can be matched.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { problemSchema, type Problem } from './schemas.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An error that is meant for the client: thrown by handlers and hooks, sent as it is. */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly kind: string,
    readonly title: string,
    detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export const notFound = (detail: string) => new HttpProblem(404, 'not-found', 'Not found', detail);
export const unauthenticated = (detail: string) =>
  new HttpProblem(401, 'unauthenticated', 'Authentication required', detail, { 'www-authenticate': 'Bearer' });
export const forbidden = (detail: string) => new HttpProblem(403, 'forbidden', 'Permission denied', detail);
export const unavailable = (detail: string) => new HttpProblem(503, 'unavailable', 'Service unavailable', detail);

/** Route `response` entries documenting the problems a route can answer with. */
export function problemResponses(...codes: number[]): Record<number, typeof problemSchema> {
  return Object.fromEntries(codes.map((code) => [code, problemSchema]));
}

/** Titles of 4xx errors Fastify raises itself (bad JSON, wrong media type, body too large ...). */
const kindByStatus: Record<number, [string, string]> = {
  400: ['invalid-request', 'Invalid request'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  413: ['payload-too-large', 'Request body too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
};

function problem(status: number, kind: string, title: string, detail: string): Problem {
  return { type: `urn:certflow:problem:${kind}`, title, status, detail };
}

function send(reply: FastifyReply, body: Problem, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(body.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(body);
}

function clientStatus(error: Partial<FastifyError>): number | null {
  const status = error.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null;
}

/**
 * Fastify's `frameworkErrors` option: the router's own errors (a path that is not valid percent-encoding,
 * an over-long parameter) happen before any handler and are answered here.
 */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = clientStatus(error) ?? 400;
  const [kind, title] = kindByStatus[status] ?? kindByStatus[400];
  void send(reply, problem(status, kind, title, error.message || title));
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof HttpProblem) {
      return send(reply, problem(error.status, error.kind, error.title, error.message), error.headers);
    }
    const fastifyError = (typeof error === 'object' && error !== null ? error : {}) as Partial<FastifyError>;
    const status = clientStatus(fastifyError);
    if (status !== null) {
      const [kind, title] = kindByStatus[status] ?? ['client-error', STATUS_CODES[status] ?? 'Client error'];
      return send(reply, problem(status, kind, title, fastifyError.message || title));
    }
    // Headers are never logged (the serializer keeps method and URL only), so no token reaches the log.
    request.log.error({ err: error }, 'admin API request failed');
    return send(reply, problem(500, 'internal', 'Internal error',
      `the request could not be completed; the error was logged with request id ${request.id}`));
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    send(reply, problem(404, 'not-found', 'Not found', `no route for ${request.method} ${request.url.split('?')[0]}`)));
}
