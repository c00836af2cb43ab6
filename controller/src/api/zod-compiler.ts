// Fastify route schemas in this API are zod schemas. Zod validates each request part (and gives the
// handler its parsed, typed value); @fastify/swagger sees JSON Schema made from the same zod objects.
// We use zod rather than Fastify's default Ajv because Ajv's defaults coerce body types and silently drop
// unknown body fields, and we want both to be a 400.
import type { FastifySchema, FastifySchemaCompiler, FastifyTypeProvider } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { problemSchema } from './schemas.js';

export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

/** A request part that does not match its schema; the message names the part and the field. */
export class RequestValidationError extends Error {
  override name = 'RequestValidationError';
  readonly statusCode = 400;
}

const partNames: Record<string, string> = { querystring: 'query', params: 'path', body: 'body', headers: 'header' };

export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => (data: unknown) => {
  const result = schema.safeParse(data);
  if (result.success) return { value: result.data };
  const part = partNames[httpPart ?? ''] ?? httpPart ?? 'request';
  const issue = result.error.issues[0];
  const where = issue.path.length > 0 ? `${part} parameter "${issue.path.join('.')}"` : part;
  return { error: new RequestValidationError(`${where}: ${issue.message}`) };
};

/**
 * Responses are built by our own handlers from typed rows, so they are not validated again on the way
 * out; plain JSON.stringify is enough (and keeps large pages cheap).
 */
export const jsonSerializerCompiler = () => (data: unknown) => JSON.stringify(data);

function toJsonSchema(schema: unknown, io: 'input' | 'output'): unknown {
  if (!(schema instanceof z.ZodType)) return schema;
  return z.toJSONSchema(schema, {
    io,
    target: 'openapi-3.0',
    unrepresentable: 'any',
    // Zod spells out what every integer and UUID implies (±2^53 bounds, a long regex); the format says
    // as much to a reader of the document.
    override: ({ jsonSchema }) => {
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
      if (jsonSchema.format === 'uuid') delete jsonSchema.pattern;
    },
  });
}

const requestParts = ['params', 'querystring', 'body', 'headers'] as const;

/** The @fastify/swagger `transform`: turns each zod schema of a route into JSON Schema. */
export function zodSwaggerTransform({ schema, url }: { schema: FastifySchema; url: string }): { schema: FastifySchema; url: string } {
  if (!schema) return { schema, url };
  const out: Record<string, unknown> = { ...schema };
  for (const part of requestParts) {
    if (schema[part] !== undefined) out[part] = toJsonSchema(schema[part], 'input');
  }
  if (schema.response && typeof schema.response === 'object') {
    const responses: Record<string, unknown> = {};
    for (const [code, response] of Object.entries(schema.response as Record<string, unknown>)) {
      const json = toJsonSchema(response, 'output') as Record<string, unknown>;
      // Errors are documented as RFC 9457 problem documents, which is what the error handler sends.
      responses[code] = response === problemSchema
        ? { description: 'Problem', content: { 'application/problem+json': { schema: json } } }
        : { description: STATUS_CODES[Number(code)] ?? 'Response', ...json };
    }
    out.response = responses;
  }
  return { schema: out as FastifySchema, url };
}
