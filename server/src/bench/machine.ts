// A one-line description of the machine a benchmark ran on, for every report.
import os from 'node:os';

export function machineSummary(): string {
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}, Node ${process.versions.node}`;
}
