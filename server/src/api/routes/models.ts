// The model registry: models, versions, aliases (champion, challenger, any name) and their audit trail.
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import { badRequest, notFound } from '../api-error.ts';
import type { AppServices } from '../app-env.ts';
import { respond } from '../schemas/respond.ts';
import { AliasMove, ModelDetail, ModelSummary, ModelVersion } from '../schemas/registry.ts';

const ALIAS = /^[a-z][a-z0-9_-]{0,31}$/;

/** Only the store: the registry is rows and their audit trail. */
export function modelRoutes({ store }: Pick<AppServices, 'store'>) {
  return routeApp([{ role: 'operator', methods: ['PUT'], paths: ['/models/*'] }])
    .openapi(
      route(
        'get',
        '/models',
        'Registered models with their latest version and aliases',
        {},
        respond(200, 'models', z.object({ models: z.array(ModelSummary) })),
      ),
      async (c) => c.json({ models: await store.models.listModels() }, 200),
    )
    .openapi(
      route(
        'get',
        '/models/{name}',
        'A model: its versions (newest first) and alias history',
        { params: z.object({ name: z.string() }) },
        respond(200, 'model', ModelDetail),
      ),
      async (c) => {
        const { name } = c.req.valid('param');
        const versions = await store.models.listVersions(name);
        if (versions.length === 0) throw notFound('model', name);
        return c.json({ name, versions, aliasHistory: await store.models.aliasHistory(name) }, 200);
      },
    )
    .openapi(
      route(
        'get',
        '/models/{name}/versions/{ref}',
        'One version by number or alias',
        { params: z.object({ name: z.string(), ref: z.string() }) },
        respond(200, 'version', ModelVersion),
      ),
      async (c) => {
        const { name, ref } = c.req.valid('param');
        const v = await store.models.resolve(`${name}@${ref}`);
        if (!v) throw notFound('model version', `${name}@${ref}`);
        return c.json(v, 200);
      },
    )
    .openapi(
      route(
        'put',
        '/models/{name}/aliases/{alias}',
        'Point an alias at a version (atomic, audited)',
        {
          params: z.object({ name: z.string(), alias: z.string() }),
          body: z.object({ version: z.number().int().positive(), reason: z.string().min(1).max(500) }),
        },
        respond(200, 'moved', AliasMove),
      ),
      async (c) => {
        const { name, alias } = c.req.valid('param');
        const { version, reason } = c.req.valid('json');
        if (!ALIAS.test(alias) || alias === 'latest')
          throw badRequest('INVALID_ALIAS', `alias '${alias}' must be lower-case letters, digits, '-' or '_' (and not 'latest')`);
        if (!(await store.models.getVersion(name, version))) throw notFound('model version', `${name}@${version}`);
        const move = await store.models.moveAlias({ model: name, alias, toVersion: version, actor: c.get('actor').id, reason });
        await store.audit.record({ actor: c.get('actor').id, action: 'alias.move', subject: `${name}@${alias}`, detail: move });
        return c.json(move, 200);
      },
    );
}
