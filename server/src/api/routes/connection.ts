// [WIRE-3.3] Where a device finds the broker: asked with the device's own credential, before operator auth.
import { z } from '@hono/zod-openapi';
import { route, routeApp } from '../route.ts';
import { respond } from '../schemas/respond.ts';
import { DEFAULT_PREFIX } from '@flotilla/firmware-bundler/wire';
import type { BrokerEndpoints } from '../../broker/broker-link.ts';
import { ApiError } from '../api-error.ts';
import { requireDevice, type FleetServices } from './fleet-services.ts';

export function connectionRoutes(f: FleetServices, endpoints: () => BrokerEndpoints | null) {
  return routeApp([]).openapi(
    route(
      'get',
      '/devices/{id}/connection',
      'Broker URLs for a device [WIRE-3.3]. Authorization: Bearer <deviceId>:<deviceToken>.',
      { params: z.object({ id: z.string() }) },
      respond(
        200,
        'where to connect',
        z.object({ v: z.literal(1), prefix: z.string(), mqtt: z.string().nullable(), ws: z.string().nullable() }),
      ),
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      await requireDevice(f, c.req.header('authorization'), id);
      const e = endpoints();
      if (!e) throw new ApiError(503, 'BROKER_NOT_READY', 'the broker is still starting; try again in a moment');
      return c.json({ v: 1 as const, prefix: DEFAULT_PREFIX, mqtt: e.mqttsUrl ?? e.mqttUrl, ws: e.wsUrl }, 200);
    },
  );
}
