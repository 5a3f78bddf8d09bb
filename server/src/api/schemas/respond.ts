// One way to describe a JSON response, so every route names a real schema (the OpenAPI document then
// describes the body, and a handler returning a value that lacks a field fails to compile).
import type { z } from '@hono/zod-openapi';

export const jsonBody = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });

/** `{ [status]: { description, content } }` for a JSON response. */
export const respond = <S extends number, T extends z.ZodType>(status: S, description: string, schema: T) =>
  ({ [status]: { description, ...jsonBody(schema) } }) as {
    [K in S]: { description: string; content: { 'application/json': { schema: T } } };
  };
