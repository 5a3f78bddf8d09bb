// `flotilla demo`: the README's tour in one command; `--ci` exits with a JSON summary and a failing code on any failed step.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.ts';

export function registerDemoCommand(program: Command): void {
  program.command('demo')
    .description('Train, bundle and roll out a model to 50 simulated devices, snow on the cars, drift, retrain and recover')
    .option('--ci', 'print a JSON summary and exit (non-zero if a step failed) instead of keeping the server running')
    .option('--devices <n>', 'simulated devices', '50')
    .option('--epochs <n>', 'training epochs of v1', '4')
    .option('--phase-sec <n>', 'seconds of traffic measured before, during and after the snow', '20')
    .option('--snow-sec <n>', 'seconds of snow before retraining (its field samples feed the retrain)', '60')
    .option('--retrain-epochs <n>', 'training epochs of the retrain', '8')
    .option('--rate <n>', 'predictions per device per second', '4')
    .option('--data <dir>', 'data folder (default: a fresh temporary one)')
    .option('--port <n>', 'HTTP port (default: any free one)', '0')
    .action(async (o) => {
      // Set before the server modules load: they read these once. Short windows and ticks make verdicts take seconds,
      // and a field-sample policy feeds the retrain without an operator step.
      process.env.FLOTILLA_TELEMETRY_WINDOW_SEC ??= '2';
      process.env.FLOTILLA_ROLLOUT_TICK_MS ??= '500';
      process.env.FLOTILLA_TELEMETRY_SAMPLE_RATE ??= '1';
      process.env.FLOTILLA_TELEMETRY_SAMPLE_BYTES ??= String(64 << 20);
      process.env.FLOTILLA_ADMIN_TOKEN ??= `demo-${randomBytes(16).toString('hex')}`;
      const { runDemo } = await import('../../demo/demo.ts');
      const { renderSummary } = await import('../../demo/summary.ts');
      const { summary, server, sim } = await runDemo({
        devices: Number(o.devices), epochs: Number(o.epochs), phaseSec: Number(o.phaseSec), snowSec: Number(o.snowSec), retrainEpochs: Number(o.retrainEpochs), rate: Number(o.rate),
        dataDir: o.data, port: Number(o.port), progress: !o.ci || Boolean(process.stderr.isTTY),
      });
      process.stderr.write(`\n${renderSummary(summary)}\n`);
      if (o.ci) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        await sim?.close();
        await server.close();
        if (!summary.ok) process.exitCode = EXIT.FAILED;
        return;
      }
      process.stderr.write(`\nConsole: ${server.url}/  (admin token: ${process.env.FLOTILLA_ADMIN_TOKEN}). Ctrl-C to stop.\n`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await sim?.close();
      await server.close();
    });
}
