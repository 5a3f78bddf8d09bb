// Which devices a rollout targets: the schema, the one matching rule, and the `tag=car,group=eu` shorthand.
import { z } from 'zod';
import { RolloutError } from './rollout-error.ts';

/**
 * A rollout's target. Every criterion given must hold (AND across kinds): the device has ALL the
 * `tags`, is in ANY of the `groups`, is one of the `deviceIds`, and each reported attribute equals
 * the value given. `all: true` targets the whole fleet and must be said explicitly, so an empty
 * target never means "everything" by accident.
 */
export const Target = z
  .object({
    all: z.boolean().optional(),
    tags: z.array(z.string().min(1).max(64)).max(32).optional(),
    groups: z.array(z.string().min(1).max(64)).max(32).optional(),
    deviceIds: z.array(z.string().min(1).max(128)).max(100_000).optional(),
    attributes: z.record(z.string().min(1).max(64), z.string().max(256)).optional(),
  })
  .refine(
    (t) => t.all === true || Boolean(t.tags?.length || t.groups?.length || t.deviceIds?.length || Object.keys(t.attributes ?? {}).length),
    {
      message: 'a target needs at least one of tags, groups, deviceIds, attributes (or all: true)',
    },
  );
export type Target = z.infer<typeof Target>;

/** What the matching rule needs to know about a device. */
export interface TargetFacts {
  id: string;
  tags: readonly string[];
  groups: readonly string[];
  attributes: Readonly<Record<string, string>>;
}

/** The target rule (see `Target`); a DeviceDirectory filters with exactly this. */
export function matchesTarget(d: TargetFacts, t: Target): boolean {
  if (t.deviceIds?.length && !t.deviceIds.includes(d.id)) return false;
  if (t.tags?.length && !t.tags.every((tag) => d.tags.includes(tag))) return false;
  if (t.groups?.length && !t.groups.some((g) => d.groups.includes(g))) return false;
  for (const [k, v] of Object.entries(t.attributes ?? {})) if (d.attributes[k] !== v) return false;
  return true;
}

/**
 * Parses `tag=car,group=eu,device=d1,attr.region=north` (or `all`) into a Target. Repeated keys
 * accumulate; `id=` and `tags=`/`groups=`/`devices=` are synonyms of `device=`, `tag=`, `group=`. Used by the CLI's `--target` and the preview route's query.
 */
export function parseTargetShorthand(text: string): Target {
  const t: { all?: boolean; tags?: string[]; groups?: string[]; deviceIds?: string[]; attributes?: Record<string, string> } = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    if (part === 'all') {
      t.all = true;
      continue;
    }
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq) : '';
    const value = part.slice(eq + 1);
    if (!key || !value)
      throw new RolloutError(
        'INVALID_ROLLOUT',
        `target '${part}' is not KEY=VALUE (keys: tag, group, device (or id), attr.NAME; or 'all')`,
      );
    if (key === 'tag' || key === 'tags') (t.tags ??= []).push(value);
    else if (key === 'group' || key === 'groups') (t.groups ??= []).push(value);
    else if (key === 'device' || key === 'id' || key === 'devices') (t.deviceIds ??= []).push(value);
    else if (key.startsWith('attr.') && key.length > 5) (t.attributes ??= {})[key.slice(5)] = value;
    else throw new RolloutError('INVALID_ROLLOUT', `unknown target key '${key}' (use tag, group, device or id, attr.NAME)`);
  }
  const parsed = Target.safeParse(t);
  if (!parsed.success) throw new RolloutError('INVALID_ROLLOUT', `target '${text}': ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** One line for humans: `tag=car group=eu`. */
export function describeTarget(t: Target): string {
  if (t.all) return 'all devices';
  return [
    ...(t.tags ?? []).map((x) => `tag=${x}`),
    ...(t.groups ?? []).map((x) => `group=${x}`),
    ...(t.deviceIds ?? []).slice(0, 5).map((x) => `device=${x}`),
    ...((t.deviceIds?.length ?? 0) > 5 ? [`(+${t.deviceIds!.length - 5} devices)`] : []),
    ...Object.entries(t.attributes ?? {}).map(([k, v]) => `attr.${k}=${v}`),
  ].join(' ');
}
