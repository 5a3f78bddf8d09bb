// Backend selection on this machine: native packages and a GPU unavailable, wasm chosen and set up offline.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';

describe('selectBackend', () => {
  it('skips the native backends with a reason and picks wasm', async () => {
    const info = await selectBackend();
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.version).toBe('4.22.0');
    // tfjs-backend-wasm runs single-threaded under Node; SIMD depends on the runtime.
    expect(info.threads).toBe(1);
    expect(typeof info.simd).toBe('boolean');
    expect(info.skipped.map((s) => s.name)).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node']);
    // tfjs-node-gpu is installed without its native addon; tfjs-node is not installed at all.
    expect(info.skipped[0]!.reason).toMatch(/tfjs_binding\.node|native addon/i);
    // No GPU here: Dawn finds no Vulkan driver, or only lavapipe where VK_DRIVER_FILES points at it.
    expect(info.skipped[1]!.reason).toMatch(/^(Dawn saw no Vulkan device|only the software adapter)/);
    expect(info.skipped[2]!.reason).toMatch(/Cannot find (package|module)/);
  });

  it('is idempotent and can switch to a preferred backend and back', async () => {
    const a = await selectBackend();
    const b = await selectBackend();
    expect(b).toEqual(a);
    const cpu = await selectBackend({ prefer: 'cpu' });
    expect(cpu).toMatchObject({ name: 'cpu', skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.tidy(() => tf.add(1, 2).arraySync())).toBe(3);
    expect((await selectBackend({ prefer: 'wasm' })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('falls back past an unavailable preference unless strict', async () => {
    const info = await selectBackend({ prefer: 'tfjs-node' });
    expect(info.name).toBe('wasm');
    expect(info.skipped.map((s) => s.name)).toEqual(['tfjs-node', 'tfjs-node-gpu', 'webgpu']);
    await expect(selectBackend({ prefer: 'tfjs-node', strict: true })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
