// `flotilla rollout ...`: create staged rollouts, watch them, and pause, resume, advance, abort or roll back.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes.ts';
import type { RolloutRequestInput, RolloutStatusAnswer } from '../../api/contract.ts';
import { api, serverOptions, type ServerOpts } from '../common.ts';
import { answer } from '../typed-api.ts';
import { emit, pct, table } from '../output.ts';
import { parseDuration, parseStagesShorthand } from '../../rollouts/rollout-spec.ts';
import { describeTarget, parseTargetShorthand } from '../../rollouts/target.ts';
import { parseConditionShorthand, parseWindowShorthand } from '../../rollouts/update-control.ts';

const FINAL = ['completed', 'aborted', 'rolled_back'];
const ACTIONS = {
  start: 'Start a draft rollout',
  pause: 'Pause: notify no more devices until resumed',
  resume: 'Resume a paused rollout (gates are judged again)',
  advance: 'Approve a waiting stage, or force past the current one (skips its bake and gates)',
  abort: 'Stop notifying devices; devices keep what they have (see rollback)',
  rollback: 'Send every notified device back to the bundle it ran before',
} as const;

/** Flags as usage errors (exit 2), not server refusals. */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new CliError('USAGE', (e as Error).message, EXIT.USAGE);
  }
}

const counts = (c: Record<string, number> | undefined) =>
  Object.entries(c ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || '-';

function verdict(v: RolloutStatusAnswer['stages'][number]['verdict'], stageState: string): string {
  if (!v) return '-';
  // A stage that ended says how; its last verdict only explains an operator's advance over it.
  if (stageState === 'passed') return v.pass ? 'pass' : 'passed on advance';
  const failed = v.failures?.length ? `FAIL ${v.failures.map((f) => `${f.gate}=${+Number(f.value).toFixed(4)}`).join(',')}` : '';
  if (stageState !== 'active') return failed ? `${stageState}: ${failed}` : stageState;
  if (failed) return failed;
  if (v.waiting?.length) return `waiting: ${v.waiting.map((w) => `${w.have} of ${w.need} ${w.unit}`).join(', ')}`;
  if (v.insufficient) return `waiting (${v.stats?.reporting ?? 0}/${v.stats?.devices ?? 0} reporting)`;
  if (!v.pass) return '-';
  return 'healthy, baking';
}

/** The human status view: one header line, a row per stage, the totals. */
export function renderStatus(s: RolloutStatusAnswer): string {
  const head = `${s.id}  ${s.state}  ${s.bundle.model}@${s.bundle.version}  stage ${s.current + 1}/${s.stages.length}  target ${describeTarget(s.target)}`;
  const rows = s.stages.map((st) => [
    st.index + 1,
    st.percent !== null ? `${st.percent}%` : `${st.count} dev`,
    st.shadow ? 'shadow' : '',
    st.state,
    st.devices,
    st.bakeEndsAt ?? '-',
    counts(st.counts),
    counts(Object.fromEntries(Object.entries(st.waiting ?? {}).filter(([, n]) => n > 0))),
    verdict(st.verdict, st.state),
  ]);
  const stats = s.stages[s.current]?.verdict?.stats;
  const client = stats?.clientErrors ? `, ${stats.clientErrors} bad-input request(s) not counted` : '';
  return [
    head,
    table(['STAGE', 'SIZE', 'MODE', 'STATE', 'DEVICES', 'BAKE ENDS', 'DEVICE STATES', 'WAITING ON', 'GATES'], rows),
    `devices: ${s.devices} in stages; ${counts(s.counts)}${stats ? `; current stage error rate ${pct(stats.errorRate)}${stats.requests !== undefined ? ` of ${stats.requests} requests` : ''}${client}` : ''}`,
    s.actions.length ? `actions: ${s.actions.join(', ')}` : 'final',
  ].join('\n');
}

/**
 * Posts the rollout. A model version with no bundle yet gets one first (as `flotilla bundle create MODEL`
 * would make it: the default artifact and manifest), then the rollout names that bundle.
 */
async function createRollout(o: ServerOpts, req: Record<string, unknown>): Promise<RolloutStatusAnswer> {
  try {
    return await answer(api(o).rollouts.$post({ json: req as RolloutRequestInput }));
  } catch (e) {
    if (!(e instanceof CliError) || e.code !== 'BUNDLE_NOT_FOUND' || typeof req.model !== 'string' || req.bundle !== undefined) throw e;
    if (!o.json) process.stderr.write(`${req.model} has no bundle yet: bundling it (flotilla bundle create ${req.model})...\n`);
    const b = await answer(api(o).bundles.$post({ json: { model: req.model } }));
    if (!o.json)
      process.stderr.write(`bundled ${b.model}@${b.version}: ${b.id.slice(0, 16)} (${b.artifact}, ${(b.bytes / 1024).toFixed(1)} KiB)\n`);
    const { model: _model, ...rest } = req;
    return answer(api(o).rollouts.$post({ json: { ...rest, bundle: b.id } as RolloutRequestInput }));
  }
}

export function registerRolloutCommands(program: Command): void {
  const ro = program
    .command('rollout')
    .alias('rollouts')
    .description('Staged rollouts: canary stages, health gates, shadow runs, approval, rollback');

  serverOptions(
    ro
      .command('create')
      .description('Create and start a rollout: flotilla rollout create --model NAME@VERSION --target tag=car --stages 10,50,100')
      .option('--model <ref>', 'model version to roll out (NAME@VERSION, NAME@ALIAS or NAME: its newest bundle, made now when it has none)')
      .option('--bundle <id>', 'bundle id to roll out (instead of --model)')
      .option('--target <spec>', 'devices: tag=T, group=G, device=ID (or id=ID), attr.NAME=V (comma-separated, all must hold) or all')
      .option(
        '--stages <list>',
        'cumulative percents (N), counts (Nd), shadow stages (shadow:N: the model runs beside the serving one without answering, gated on maxDisagreement, error rate and p95; passing promotes those devices)',
        '10,50,100',
      )
      .option('--bake <duration>', 'bake time per stage: 90, 90s, 10m, 2h', '10m')
      .option('--gate <key=value...>', 'gate limit for every stage, e.g. maxErrorRate=0.01 maxP95LatencyMs=50 (null turns a gate off)')
      .option('--approval', 'wait for `rollout advance` after each passing stage')
      .option('--on-gate-fail <what>', 'pause | abort (abort rolls the stage back)', 'pause')
      .option('--rate <n>', 'devices notified per minute', '1000')
      .option('--ramp <factor>', 'multiply the rate by this every minute of a stage', '1')
      .option('--no-late-joiners', 'do not include devices that match the target later')
      .option('--start-at <time>', 'notify no device before this ISO time (e.g. 2026-12-24T22:00:00Z)')
      .option('--end-at <time>', 'notify no new device after this ISO time; devices told before finish their update')
      .option(
        '--window <DAYS@HH:MM-HH:MM...>',
        "maintenance windows in the device's local time (weekdays@22:00-04:00, sat,sun@01:00-05:00, daily@02:00-03:00): devices download at once but activate only inside one",
      )
      .option('--time-zone <zone>', 'IANA zone of the windows for devices without --tz-attribute (default UTC)')
      .option('--tz-attribute <name>', "device attribute holding each device's IANA zone (e.g. tz)")
      .option('--urgent', "activate outside the windows (an app's update lock still holds up to --max-lock-hold)")
      .option('--max-lock-hold <duration>', "longest an app's update lock may delay the activation: 90s, 10m, 2h (default 1h)")
      .option('--require <condition...>', 'device conditions the app reports: unmetered, charging, idle, battery>=N, free>=BYTES')
      .option('--supersede', 'take devices over from other active rollouts of the same model')
      .option('--draft', 'create without starting (start it with `rollout start`)')
      .option('--reason <text>', 'why (kept in the audit record)', '')
      .option('--file <spec.json>', 'a full rollout request as JSON (flags given explicitly override it)'),
  ).action(async (o, cmd: Command) => {
    const explicit = (name: string) => cmd.getOptionValueSource(name) === 'cli';
    const base = o.file ? usage(() => JSON.parse(readFileSync(o.file, 'utf8'))) : {};
    const gates = usage(() =>
      Object.fromEntries(
        (o.gate ?? []).map((g: string) => {
          const [k, v] = g.split('=');
          if (!k || v === undefined || (v !== 'null' && !Number.isFinite(Number(v))))
            throw new Error(`--gate '${g}' is not NAME=NUMBER or NAME=null`);
          return [k, v === 'null' ? null : Number(v)];
        }),
      ),
    );
    const req: Record<string, unknown> & { stages?: { gates?: object }[] } = { ...base };
    if (o.model) req.model = o.model;
    if (o.bundle) req.bundle = o.bundle;
    if (o.target) req.target = usage(() => parseTargetShorthand(o.target));
    if (!req.target) throw new CliError('USAGE', 'name the devices with --target (for example --target tag=car)', EXIT.USAGE);
    if (!req.model && !req.bundle)
      throw new CliError('USAGE', 'name what to roll out with --model NAME@VERSION or --bundle ID', EXIT.USAGE);
    if (!base.stages || explicit('stages') || explicit('bake')) {
      req.stages = usage(() => parseStagesShorthand(o.stages, parseDuration(o.bake)));
    }
    if (Object.keys(gates).length) req.stages = req.stages?.map((s) => ({ ...s, gates: { ...s.gates, ...gates } }));
    const policy = { ...(base.policy ?? {}) };
    if (!base.policy || explicit('approval')) policy.advance = o.approval ? 'approval' : (policy.advance ?? 'auto');
    if (!base.policy || explicit('onGateFail')) policy.onGateFail = o.onGateFail;
    if (!base.policy || explicit('lateJoiners')) policy.includeLateJoiners = o.lateJoiners;
    if (!base.policy || explicit('rate') || explicit('ramp'))
      policy.rate = { devicesPerMinute: Number(o.rate), rampFactor: Number(o.ramp) };
    if (o.startAt || o.endAt)
      policy.schedule = { ...policy.schedule, ...(o.startAt ? { startAt: o.startAt } : {}), ...(o.endAt ? { endAt: o.endAt } : {}) };
    const update = { ...policy.update };
    if (o.window) update.windows = usage(() => (o.window as string[]).map(parseWindowShorthand));
    if (o.timeZone) update.timeZone = o.timeZone;
    if (o.tzAttribute) update.timeZoneAttribute = o.tzAttribute;
    if (o.urgent) update.urgent = true;
    if (o.maxLockHold) update.maxLockHoldSec = usage(() => parseDuration(o.maxLockHold));
    if (o.require) update.conditions = usage(() => parseConditionShorthand(o.require));
    if (Object.keys(update).length) policy.update = update;
    req.policy = policy;
    if (o.supersede) req.supersede = true;
    if (o.draft) req.draft = true;
    if (o.reason) req.reason = o.reason;
    // The flags and --file make an unchecked request; the server validates it (and says what is wrong).
    const s = await createRollout(o, req);
    emit(o, s, () => `created ${s.id} (${s.state}): ${s.bundle.model}@${s.bundle.version} to ${s.devices} devices\n\n${renderStatus(s)}`);
  });

  serverOptions(
    ro
      .command('status <id>')
      .description('State, per-stage progress, device counts by state and gate verdicts')
      .option('--watch', 'keep showing live progress until the rollout ends (Ctrl-C stops watching, not the rollout)')
      .option('--interval <sec>', 'seconds between refreshes with --watch', '2'),
  ).action(async (id: string, o) => {
    const route = api(o).rollouts[':id'];
    const get = () => answer(route.$get({ param: { id: encodeURIComponent(id) } }));
    if (!o.watch) {
      const s = await get();
      emit(o, s, () => renderStatus(s));
      return;
    }
    const ms = Math.max(0.2, Number(o.interval) || 2) * 1000;
    let stop = false;
    const onSigint = () => {
      stop = true;
    };
    process.once('SIGINT', onSigint);
    try {
      for (;;) {
        const s = await get();
        // --json --watch prints one JSON object per line (NDJSON), so it can be piped.
        if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
        else process.stdout.write(`${process.stdout.isTTY ? '\x1b[2J\x1b[H' : ''}${renderStatus(s)}\n\n`);
        if (stop || FINAL.includes(s.state)) break;
        await new Promise((res) => setTimeout(res, ms));
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
  });

  serverOptions(
    ro
      .command('list')
      .description('Rollouts, newest first')
      .option('--state <state>', 'only this state')
      .option('--model <name>', 'only this model'),
  ).action(async (o) => {
    const { rollouts } = await answer(api(o).rollouts.$get({ query: { state: o.state || undefined, model: o.model || undefined } }));
    emit(o, { rollouts }, () =>
      table(
        ['ROLLOUT', 'STATE', 'MODEL', 'STAGE', 'TARGET', 'CREATED', 'BY'],
        rollouts.map((r) => [
          r.id,
          r.state,
          `${r.bundle.model}@${r.bundle.version}`,
          `${r.current + 1}/${r.stages.length}`,
          describeTarget(r.target),
          r.createdAt,
          r.createdBy,
        ]),
      ),
    );
  });

  for (const [action, help] of Object.entries(ACTIONS)) {
    serverOptions(
      ro.command(`${action} <id>`).description(help).requiredOption('--reason <text>', 'why (kept in the audit record)'),
    ).action(async (id: string, o) => {
      const s = await answer(
        api(o).rollouts[':id'][':action'].$post({ param: { id: encodeURIComponent(id), action }, json: { reason: o.reason } }),
      );
      // A resume judges the gates again at once: say what they found when the rollout stays (or is again) paused.
      const stage = s.stages[s.current];
      const again =
        action === 'resume' && s.state === 'paused' && stage ? ` again: the gates still say ${verdict(stage.verdict, stage.state)}` : '';
      emit(o, s, () => `${action}: ${s.id} is ${s.state}${again}\n\n${renderStatus(s)}`);
    });
  }

  serverOptions(
    ro
      .command('retry <id>')
      .description('Send the failed devices of a stage their desired state again, with a new retry nonce so their agents try once more')
      .requiredOption('--stage <n>', 'stage number as `rollout status` shows it (1 = the first stage)')
      .requiredOption('--reason <text>', 'why (kept in the audit record)'),
  ).action(async (id: string, o) => {
    const stage = Number(o.stage);
    if (!Number.isInteger(stage) || stage < 1)
      throw new CliError('USAGE', `--stage '${o.stage}' is not a stage number (1, 2, ...)`, EXIT.USAGE);
    const s = await answer(
      api(o).rollouts[':id'].retry.$post({ param: { id: encodeURIComponent(id) }, json: { stage: stage - 1, reason: o.reason } }),
    );
    emit(o, s, () => `retry: ${s.retried} failed device(s) of stage ${stage} told to try again\n\n${renderStatus(s)}`);
  });

  serverOptions(ro.command('device <id> <deviceId>').description('One device in a rollout: its stage, state and timeline')).action(
    async (id: string, deviceId: string, o) => {
      const d = await answer(
        api(o).rollouts[':id'].devices[':deviceId'].$get({ param: { id: encodeURIComponent(id), deviceId: encodeURIComponent(deviceId) } }),
      );
      const u = d.update;
      const now = u
        ? [
            u.waiting ? `waiting on ${u.waiting.kind} since ${u.waiting.since}: ${u.waiting.reason}` : null,
            u.progress
              ? `downloaded ${u.progress.chunks}/${u.progress.totalChunks} chunks (${u.progress.bytes}/${u.progress.totalBytes} bytes)`
              : null,
          ]
            .filter(Boolean)
            .join('; ')
        : '';
      emit(o, d, () =>
        [
          `${d.deviceId} in ${d.rolloutId}: stage ${d.stage === null ? '-' : d.stage + 1}, ${d.state}${now ? ` (${now})` : ''}`,
          table(
            ['AT', 'KIND', 'STATE', 'DETAIL'],
            d.timeline.map((e) => [e.at, e.kind, e.state, e.detail === undefined ? '' : JSON.stringify(e.detail)]),
          ),
        ].join('\n'),
      );
    },
  );

  serverOptions(ro.command('events <id>').description('State changes, gate verdicts and operator actions (who, when, why)')).action(
    async (id: string, o) => {
      const { events } = await answer(api(o).rollouts[':id'].events.$get({ param: { id: encodeURIComponent(id) } }));
      emit(o, { events }, () =>
        table(
          ['AT', 'EVENT', 'FROM', 'TO', 'STAGE', 'BY', 'REASON'],
          events.map((e) => [e.at, e.kind, e.from, e.to, e.stage === null ? '-' : e.stage + 1, e.actor, e.reason]),
        ),
      );
    },
  );

  serverOptions(
    ro
      .command('preview')
      .description('How many devices a target matches now and how stages would split them')
      .requiredOption('--target <spec>', 'as for create')
      .option('--stages <list>', 'as for create')
      .option('--model <name>', 'also count devices other active rollouts of this model hold'),
  ).action(async (o) => {
    usage(() => parseTargetShorthand(o.target));
    const p = await answer(
      api(o).rollouts.preview.$get({ query: { target: o.target, stages: o.stages || undefined, model: o.model || undefined } }),
    );
    emit(
      o,
      p,
      () =>
        `${p.matching} devices match (${p.online} online); stage sizes ${p.stageSizes.join(', ')}${o.model ? `; ${p.held} held by other active rollouts` : ''}`,
    );
  });
}
