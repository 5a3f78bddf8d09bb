// Optional system tools for tests: skip with a visible reason on a laptop, fail under CI
// (FLOTILLA_REQUIRE_TOOLS=1, set by .ci/run) so a missing package can never pass silently.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Whether `cmd args` runs and exits 0 on this machine. */
export function toolWorks(cmd: string, args: string[] = ['--version']): boolean {
  if (cmd.startsWith('/') && !existsSync(cmd)) return false;
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0;
}

/**
 * Returns a reason string when the tool is missing (use with `describe.skipIf(reason)`),
 * or null when it is present. Under FLOTILLA_REQUIRE_TOOLS=1 a missing tool throws instead,
 * which fails the test file.
 */
export function missingTool(name: string, works: boolean, installHint: string): string | null {
  if (works) return null;
  const reason = `${name} is not installed (${installHint})`;
  if (process.env.FLOTILLA_REQUIRE_TOOLS === '1') {
    throw new Error(`FLOTILLA_REQUIRE_TOOLS=1 but ${reason}`);
  }
  console.warn(`[skip] ${reason}`);
  return reason;
}

/** python3 with the official onnx package (Debian python3-onnx). */
export const onnxCheckerMissing = () =>
  missingTool('python3-onnx', toolWorks('/usr/bin/python3', ['-c', 'import onnx']), 'apt-get install python3-onnx');
export const gccMissing = () => missingTool('gcc', toolWorks('gcc'), 'apt-get install gcc');
export const mosquittoMissing = () =>
  missingTool(
    'mosquitto',
    toolWorks('/usr/sbin/mosquitto', ['-h']) || existsSync('/usr/sbin/mosquitto'),
    'apt-get install mosquitto mosquitto-clients',
  );
export const chromiumMissing = () => missingTool('chromium', existsSync('/usr/bin/chromium'), 'apt-get install chromium');
/** python3 with torch, torchvision and onnx (Debian python3-torch python3-torchvision python3-onnx), for the model corpus. */
export const torchMissing = () =>
  missingTool(
    'python3-torch',
    toolWorks('/usr/bin/python3', ['-c', 'import torch, torchvision, onnx']),
    'apt-get install python3-torch python3-torchvision python3-onnx',
  );
/** Where scripts/install-lavapipe.sh puts Mesa lavapipe 25's ICD file (override: FLOTILLA_LAVAPIPE_ICD). */
export const lavapipeIcd = () => process.env.FLOTILLA_LAVAPIPE_ICD ?? '/opt/flotilla-lavapipe/lvp_icd.json';
/** lavapipe 25 and the Vulkan loader, for the webgpu backend's software-adapter tests. */
export const lavapipeMissing = () =>
  missingTool(
    'lavapipe 25',
    existsSync(lavapipeIcd()) && existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1'),
    'scripts/install-lavapipe.sh',
  );
