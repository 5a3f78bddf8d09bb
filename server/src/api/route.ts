// How a route module declares its routes: one call says the method, path, summary, what the route takes and
// what it answers, and (`routeApp`) which role each method and path needs. The OpenAPI wiring around them
// (request body content, the JSON response object, the role middleware) is written here once.
import { createRoute, OpenAPIHono, type OpenAPIHonoOptions, type z } from '@hono/zod-openapi';
import type { Role } from '../store/entities.ts';
import type { AppEnv } from './app-env.ts';
import { requireRole } from './auth-middleware.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What a route takes: path parameters, query, a JSON body (validated; `optionalBody` lets it be absent). */
export interface Takes {
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  optionalBody?: true;
}

type JsonRequest<B extends z.ZodType> = { content: { 'application/json': { schema: B } }; required?: boolean };
type RequestOf<T extends Takes> = {
  [K in Exclude<keyof T, 'optionalBody'>]: K extends 'body' ? JsonRequest<Extract<T[K], z.ZodType>> : T[K];
};
type Responses = Record<number, { description: string; content?: Record<string, { schema: z.ZodType }> }>;
type Config<M extends Method, P extends string, T extends Takes, R extends Responses> = {
  method: M;
  path: P;
  summary: string;
  responses: R;
} & (keyof RequestOf<T> extends never ? unknown : { request: RequestOf<T> });

/** `route('get', '/runs/{id}', 'One run', { params: Id }, respond(200, 'run', Run))`, for `app.openapi(…, handler)`. */
export function route<const M extends Method, const P extends string, const T extends Takes, const R extends Responses>(
  method: M,
  path: P,
  summary: string,
  takes: T,
  responses: R,
) {
  const { body, optionalBody, ...rest } = takes;
  const request: Record<string, unknown> = { ...rest };
  if (body) request['body'] = { content: { 'application/json': { schema: body } }, ...(optionalBody ? { required: false } : {}) };
  const config = { method, path, summary, ...(Object.keys(request).length ? { request } : {}), responses };
  return createRoute(config as Config<M, P, T, R>);
}

/** Who may call what: `role` for the `methods` (default: every method) on each of `paths` (Hono patterns). */
export interface Guard {
  role: Role;
  methods?: ('GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE')[];
  paths: string[];
}

/** A route module's app with its role guards in front, in the order given. */
export function routeApp(guards: Guard[], options?: OpenAPIHonoOptions<AppEnv>): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>(options);
  for (const g of guards) {
    if (g.methods) app.on(g.methods, g.paths, requireRole(g.role));
    else for (const p of g.paths) app.use(p, requireRole(g.role));
  }
  return app;
}
