// The model registry: models, versions, aliases (champion, challenger, any name) and their audit trail.
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { badRequest, notFound } from '../api-error.ts';
import type { AppEnv } from '../app-env.ts';
import type { AppServices } from '../app-env.ts';
import { requireRole } from '../auth-middleware.ts';
import { jsonBody } from '../schemas/respond.ts';
import { AliasMove, ModelDetail, ModelSummary, ModelVersion } from '../schemas/registry.ts';

const ALIAS = /^[a-z][a-z0-9_-]{0,31}$/;

export function modelRoutes(s: AppServices) {
  const app = new OpenAPIHono<AppEnv>();
  app.put('/models/*', requireRole('operator'));
  return app
    .openapi(
      createRoute({ method: 'get', path: '/models', summary: 'Registered models with their latest version and aliases', responses: { 200: { description: 'models', ...jsonBody(z.object({ models: z.array(ModelSummary) })) } } }),
      async (c) => c.json({ models: await s.store.models.listModels() }, 200),
    )
    .openapi(
      createRoute({
        method: 'get', path: '/models/{name}', summary: 'A model: its versions (newest first) and alias history',
        request: { params: z.object({ name: z.string() }) },
        responses: { 200: { description: 'model', ...jsonBody(ModelDetail) } },
      }),
      async (c) => {
        const { name } = c.req.valid('param');
        const versions = await s.store.models.listVersions(name);
        if (versions.length === 0) throw notFound('model', name);
        return c.json({ name, versions, aliasHistory: await s.store.models.aliasHistory(name) }, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'get', path: '/models/{name}/versions/{ref}', summary: 'One version by number or alias',
        request: { params: z.object({ name: z.string(), ref: z.string() }) },
        responses: { 200: { description: 'version', ...jsonBody(ModelVersion) } },
      }),
      async (c) => {
        const { name, ref } = c.req.valid('param');
        const v = await s.store.models.resolve(`${name}@${ref}`);
        if (!v) throw notFound('model version', `${name}@${ref}`);
        return c.json(v, 200);
      },
    )
    .openapi(
      createRoute({
        method: 'put', path: '/models/{name}/aliases/{alias}', summary: 'Point an alias at a version (atomic, audited)',
        request: {
          params: z.object({ name: z.string(), alias: z.string() }),
          body: { content: { 'application/json': { schema: z.object({ version: z.number().int().positive(), reason: z.string().min(1).max(500) }) } } },
        },
        responses: { 200: { description: 'moved', ...jsonBody(AliasMove) } },
      }),
      async (c) => {
        const { name, alias } = c.req.valid('param');
        const { version, reason } = c.req.valid('json');
        if (!ALIAS.test(alias) || alias === 'latest') throw badRequest('INVALID_ALIAS', `alias '${alias}' must be lower-case letters, digits, '-' or '_' (and not 'latest')`);
        if (!(await s.store.models.getVersion(name, version))) throw notFound('model version', `${name}@${version}`);
        const move = await s.store.models.moveAlias({ model: name, alias, toVersion: version, actor: c.get('actor').id, reason });
        await s.store.audit.record({ actor: c.get('actor').id, action: 'alias.move', subject: `${name}@${alias}`, detail: move });
        return c.json(move, 200);
      },
    );
}
