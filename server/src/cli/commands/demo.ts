// `flotilla demo`: the README's tour in one command; `--ci` exits with a JSON summary and a failing code on any failed step.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.ts';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Train, bundle and roll out a model to 50 simulated devices; snow on the cars, drift, a policy-started retrain, the gate, recovery',
    )
    .option('--ci', 'print a JSON summary and exit (non-zero if a step failed) instead of keeping the server running')
    .option('--devices <n>', 'simulated devices', '50')
    .option('--epochs <n>', 'training epochs of v1', '3')
    .option('--phase-sec <n>', 'seconds of traffic measured before the snow and after the retrained model is out', '20')
    .option('--field-samples <n>', 'labelled car samples the retraining policy waits for after the drift alert', '2500')
    .option('--retrain-epochs <n>', 'training epochs of the retrain', '5')
    .option('--rate <n>', 'predictions per device per second', '4')
    .option('--data <dir>', 'data folder (default: a fresh temporary one)')
    .option('--port <n>', 'HTTP port (default: any free one)', '0')
    .option('--mqtt-port <n>', 'MQTT port of the embedded broker (default: any free one)', '0')
    .action(async (o) => {
      const num = (flag: string, v: string, min: number) => {
        const x = Number(v);
        if (!Number.isInteger(x) || x < min) {
          process.stderr.write(`flotilla demo: --${flag} must be an integer of at least ${min}, got '${v}'\n`);
          process.exit(EXIT.USAGE);
        }
        return x;
      };
      const opts = {
        devices: num('devices', o.devices, 3),
        epochs: num('epochs', o.epochs, 1),
        phaseSec: num('phase-sec', o.phaseSec, 1),
        fieldSamples: num('field-samples', o.fieldSamples, 1),
        retrainEpochs: num('retrain-epochs', o.retrainEpochs, 1),
        rate: num('rate', o.rate, 1),
        port: num('port', o.port, 0),
        mqttPort: num('mqtt-port', o.mqttPort, 0),
      };
      // Set before the server modules load: they read these once. Short windows and ticks make verdicts take seconds,
      // and a field-sample policy feeds the retrain without an operator step.
      process.env.FLOTILLA_TELEMETRY_WINDOW_SEC ??= '2';
      process.env.FLOTILLA_ROLLOUT_TICK_MS ??= '500';
      process.env.FLOTILLA_TELEMETRY_SAMPLE_RATE ??= '1';
      process.env.FLOTILLA_TELEMETRY_SAMPLE_BYTES ??= String(64 << 20);
      process.env.FLOTILLA_ADMIN_TOKEN ??= `demo-${randomBytes(16).toString('hex')}`;
      const { runDemo } = await import('../demo/demo.ts');
      const { renderSummary } = await import('../demo/summary.ts');
      const { Narrator } = await import('../demo/narrator.ts');
      // The story goes to stdout; with --ci stdout holds only the JSON summary, so the story goes to stderr.
      const out = o.ci ? process.stderr : process.stdout;
      const { summary, server, sim, dataDir, madeDataDir } = await runDemo(
        {
          ...opts,
          dataDir: o.data,
          progress: !o.ci || Boolean(process.stderr.isTTY),
        },
        new Narrator(out),
      );
      out.write(`\n${renderSummary(summary)}\n`);
      if (o.ci) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        await sim?.close();
        await server.close();
        if (madeDataDir) rmSync(dataDir, { recursive: true, force: true });
        if (!summary.ok) process.exitCode = EXIT.FAILED;
        return;
      }
      out.write(`\nConsole: ${server.url}/  (admin token: ${process.env.FLOTILLA_ADMIN_TOKEN}). Ctrl-C to stop.\n`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await sim?.close();
      await server.close();
    });
}
