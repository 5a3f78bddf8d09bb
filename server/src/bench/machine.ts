// A one-line description of the machine a benchmark ran on, for every report.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machineSummary(): string {
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}, Node ${process.versions.node}`;
}

/**
 * Which int8 dot-product path this CPU gives onnxruntime: VNNI (AVX-512 or AVX-VNNI) multiplies u8×s8 pairs into
 * int32 directly; AVX2 alone goes through a saturating int16 step, slower and the reason weights are 7-bit.
 */
export function int8KernelPath(): string {
  if (os.arch() !== 'x64') return `${os.arch()} (no x86 VNNI question)`;
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    return 'x86-64, CPU flags unreadable';
  }
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags);
  if (has('avx512_vnni') || has('avx_vnni')) return `x86-64 with VNNI (${has('avx512_vnni') ? 'avx512_vnni' : 'avx_vnni'})`;
  return has('avx2') ? 'x86-64 AVX2 without VNNI' : 'x86-64 without AVX2';
}
