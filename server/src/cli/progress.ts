// A progress bar on stderr for long work (training, downloads, rollouts). On a terminal it redraws
// one line; elsewhere (CI logs, pipes) it prints a line at most every few seconds.

export interface ProgressBar {
  update(done: number, total: number, label?: string): void;
  log(line: string): void;
  stop(): void;
}

export function createProgressBar(title: string, stream: NodeJS.WriteStream = process.stderr, enabled = true): ProgressBar {
  const tty = Boolean(stream.isTTY);
  let lastPrint = 0;
  let lastLine = '';
  const render = (done: number, total: number, label = '') => {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 28;
    const filled = Math.round(frac * width);
    return `${title} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${label}`;
  };
  return {
    update(done, total, label) {
      if (!enabled) return;
      const line = render(done, total, label);
      if (tty) {
        stream.write(`\r${line.padEnd(lastLine.length)}`);
        lastLine = line;
      } else if (Date.now() - lastPrint > 5000 || done >= total) {
        stream.write(`${line}\n`);
        lastPrint = Date.now();
      }
    },
    log(line) {
      if (!enabled) return;
      if (tty && lastLine) stream.write(`\r${' '.repeat(lastLine.length)}\r`);
      stream.write(`${line}\n`);
      if (tty && lastLine) stream.write(lastLine);
    },
    stop() {
      if (enabled && tty && lastLine) stream.write('\n');
      lastLine = '';
    },
  };
}
