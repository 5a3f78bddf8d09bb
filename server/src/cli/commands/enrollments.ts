// `flotilla enrollments ...`: claims devices use once to enroll themselves (create prints the claim once),
// list, show, revoke. And `flotilla devices rotate`, registered from devices.ts.
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import { api, serverOptions } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit, table } from '../output.ts';
import { parseDuration } from '../../rollouts/rollout-spec.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

/** `30d`, `12h`, `90m`, `45s` (or plain seconds) → seconds; a usage error otherwise. */
export function durationSec(text: string, flag: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw new CliError('USAGE', `${flag} expects N, Ns, Nm, Nh or Nd, got '${text}'`, EXIT.USAGE);
  }
}

export function registerEnrollmentCommands(program: Command): void {
  const enrollments = program
    .command('enrollments')
    .alias('enrollment')
    .description('Enrollment by claim: a factory image carries the claim; each device makes its own key and enrolls on first start');

  serverOptions(
    enrollments
      .command('create')
      .description('Create an enrollment; prints its claim once (the server keeps only a hash)')
      .requiredOption('--name <name>', 'a name for it, e.g. factory-a')
      .requiredOption('--quota <n>', 'how many devices it may enroll (1-1000000)')
      .requiredOption('--expires <duration>', 'how long the claim works: 30d, 12h, ...')
      .option('--tag <tag>', 'a tag every enrolled device gets (repeatable)', collect, [])
      .option('--group <group>', 'a group every enrolled device joins (repeatable)', collect, [])
      .option('--attr <key=value>', 'an attribute every enrolled device gets (repeatable)', collect, [])
      .option('--serial-pattern <glob>', 'serials it accepts, e.g. CAR-* (* and ?)')
      .option('--allow-reenroll', 'a known serial may enroll again with a new key (a replaced board)'),
  ).action(async (o) => {
    const quota = Number(o.quota);
    if (!Number.isInteger(quota) || quota < 1 || quota > 1_000_000)
      throw new CliError('USAGE', `--quota expects an integer from 1 to 1000000, got '${o.quota}'`, EXIT.USAGE);
    const attributes = Object.fromEntries(
      (o.attr as string[]).map((a) => {
        const eq = a.indexOf('=');
        if (eq <= 0) throw new CliError('USAGE', `--attr expects key=value, got '${a}'`, EXIT.USAGE);
        return [a.slice(0, eq), a.slice(eq + 1)];
      }),
    );
    const r = await answer(
      api(o).enrollments.$post({
        json: {
          name: o.name,
          quota,
          expiresInSec: durationSec(o.expires, '--expires'),
          tags: o.tag,
          groups: o.group,
          attributes,
          serialPattern: o.serialPattern ?? null,
          allowReenroll: o.allowReenroll === true,
        },
      }),
    );
    emit(o, r, () =>
      [
        `enrollment ${r.enrollment.id} "${r.enrollment.name}": up to ${r.enrollment.quota} devices until ${r.enrollment.expiresAt}`,
        `claim (shown once; put it in the factory image, e.g. FLOTILLA_CLAIM=...):`,
        r.claim,
      ].join('\n'),
    );
  });

  serverOptions(enrollments.command('list').description('Enrollments, newest first: quota, used, expiry, state')).action(async (o) => {
    const r = await answer(api(o).enrollments.$get());
    emit(o, r, () =>
      table(
        ['ID', 'NAME', 'USED', 'QUOTA', 'EXPIRES', 'STATE', 'TAGS'],
        r.enrollments.map((e) => [
          e.id,
          e.name,
          String(e.used),
          String(e.quota),
          e.expiresAt,
          e.revokedAt ? 'revoked' : Date.parse(e.expiresAt) <= Date.now() ? 'expired' : 'open',
          e.template.tags.join(' '),
        ]),
      ),
    );
  });

  serverOptions(enrollments.command('show <idOrName>').description('One enrollment and its template')).action(async (id: string, o) => {
    const e = await answer(api(o).enrollments[':id'].$get({ param: { id: encodeURIComponent(id) } }));
    emit(o, e, () =>
      [
        `${e.id} "${e.name}": ${e.used}/${e.quota} enrolled, expires ${e.expiresAt}${e.revokedAt ? `, revoked ${e.revokedAt}` : ''}`,
        `template: tags ${e.template.tags.join(' ') || '-'}; groups ${e.template.groups.join(' ') || '-'}; serials ${e.template.serialPattern ?? 'any'}${e.template.allowReenroll ? '; re-enrollment with a new key allowed' : ''}`,
      ].join('\n'),
    );
  });

  serverOptions(enrollments.command('revoke <idOrName>').description('Stop the claim at once (devices it enrolled keep working)')).action(
    async (id: string, o) => {
      const e = await answer(api(o).enrollments[':id'].revoke.$post({ param: { id: encodeURIComponent(id) } }));
      emit(o, e, () => `revoked enrollment ${e.id} "${e.name}" (${e.used} devices enrolled)`);
    },
  );
}

/** `flotilla devices rotate`: new tokens for some or all devices [WIRE-2.11]. */
export function registerRotateCommand(devices: Command): void {
  serverOptions(
    devices
      .command('rotate')
      .description(
        'Rotate device tokens: connected devices get the new one at once; the old one works for the overlap window, then is refused',
      )
      .option('--all', 'every live device')
      .option('--device <id>', 'one device (repeatable)', collect, [])
      .option('--target <tag=x|group=x>', 'devices with a tag or in a group')
      .option('--overlap <duration>', 'how long an old token keeps working (default 1d): 1h, 30m, ...'),
  ).action(async (o) => {
    const ids = o.device as string[];
    const chosen = [o.all === true, ids.length > 0, o.target !== undefined].filter(Boolean).length;
    if (chosen !== 1)
      throw new CliError('USAGE', 'choose the devices with exactly one of --all, --device ID, --target tag=X|group=X', EXIT.USAGE);
    let tag: string | undefined;
    let group: string | undefined;
    if (o.target !== undefined) {
      const m = /^(tag|group)=(.+)$/.exec(o.target);
      if (!m) throw new CliError('USAGE', `--target expects tag=X or group=X, got '${o.target}'`, EXIT.USAGE);
      if (m[1] === 'tag') tag = m[2];
      else group = m[2];
    }
    const overlapSec = o.overlap === undefined ? undefined : durationSec(o.overlap, '--overlap');
    const started = Date.now();
    const r = await answer(
      api(o).devices.rotate.$post({
        json: { ids: ids.length ? ids : undefined, all: o.all === true ? true : undefined, tag, group, overlapSec },
      }),
    );
    emit(
      o,
      r,
      () =>
        `rotated ${r.rotated} device token(s) in ${((Date.now() - started) / 1000).toFixed(1)} s; ${r.notified} connected device(s) got theirs at once; old tokens accepted until ${r.oldValidUntil}`,
    );
    if (r.rotated === 0) process.exitCode = EXIT.FAILED;
  });
}
