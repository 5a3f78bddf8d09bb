// The `flotilla` CLI: one program, a command per job, --help everywhere, --json where it reports.
import { Command, CommanderError } from 'commander';
import { CliError, EXIT, EXIT_HELP } from './exit-codes.ts';
import { registerServerCommand } from './commands/server.ts';
import { registerDatasetCommands } from './commands/datasets.ts';
import { registerTrainCommands } from './commands/train.ts';
import { registerRunCommands } from './commands/runs.ts';
import { registerModelCommands } from './commands/models.ts';
import { registerTokenCommands } from './commands/tokens.ts';
import { registerBenchCommand } from './commands/bench.ts';
import { registerSoakCommand } from './commands/soak.ts';
import { registerConvertCommands } from './commands/convert.ts';
import { registerRolloutCommands } from './commands/rollouts.ts';
import { registerAgentCommand } from '@flotilla/edge-agent/cli';
import { registerBundleCommands as registerBundleFileCommands } from '@flotilla/firmware-bundler/cli';
import { registerDeviceCommands } from './commands/devices.ts';
import { registerEnrollmentCommands } from './commands/enrollments.ts';
import { registerBundleCommands } from './commands/bundles.ts';
import { registerSimulateCommand } from './commands/simulate.ts';
import { registerRetrainCommands } from './commands/retrain.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerWebhookCommands } from './commands/webhooks.ts';
import { registerKeyCommands } from './commands/keys.ts';
import { registerCaCommands } from './commands/ca.ts';
import { refuseSecretFlags, SECRETS_HELP } from './secret-flags.ts';

export function buildProgram(): Command {
  const program = new Command('flotilla')
    .description('Flotilla: train, convert, bundle, deliver and monitor ML models on fleets of edge devices.')
    .addHelpText('after', `\n${EXIT_HELP}\n\n${SECRETS_HELP}\n\nStart here: flotilla server, then flotilla train --dataset mnist.`)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerServerCommand(program);
  registerDatasetCommands(program);
  registerTrainCommands(program);
  registerRunCommands(program);
  registerModelCommands(program);
  registerTokenCommands(program);
  registerConvertCommands(program);
  registerRolloutCommands(program);
  registerAgentCommand(program);
  registerBenchCommand(program);
  registerSoakCommand(program);
  registerBundleFileCommands(program);
  registerDeviceCommands(program);
  registerEnrollmentCommands(program);
  registerBundleCommands(program);
  registerSimulateCommand(program);
  registerRetrainCommands(program);
  registerDemoCommand(program);
  registerWebhookCommands(program);
  registerKeyCommands(program);
  registerCaCommands(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    refuseSecretFlags(argv.slice(2));
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return EXIT.OK;
      if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'USAGE', message: e.message } })}\n`);
      return EXIT.USAGE;
    }
    const err = e instanceof CliError ? e : new CliError((e as { code?: string }).code ?? 'FAILED', (e as Error).message ?? String(e));
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code: err.code, message: err.message } })}\n`);
    else process.stderr.write(`error [${err.code}]: ${err.message}\n`);
    return err.exit;
  }
}
