// The default bundle artifact: int8 only when it is smaller and not slower than its float parent.
import { describe, expect, it } from 'vitest';
import { defaultArtifact, int8Drawback } from './artifact-choice.ts';

const both = { 'model.onnx': 'f', 'model.int8.onnx': 'q' };
const lat = (batch1: number, batchN: number) => ({ batch1, batchN });

describe('defaultArtifact', () => {
  it('ships int8 when it is smaller and not slower', () => {
    const parity = { sizeRatio: 0.26, float: { latencyUs: lat(100, 300) }, int8: { latencyUs: lat(60, 120) } };
    expect(defaultArtifact({ artifacts: both, quantization: { parity } })).toEqual({ artifact: 'model.int8.onnx', reason: null });
  });

  it('keeps float when the int8 file is larger (a tiny model: 185% of float)', () => {
    const choice = defaultArtifact({ artifacts: both, quantization: { parity: { sizeRatio: 1.85 } } });
    expect(choice.artifact).toBe('model.onnx');
    expect(choice.reason).toMatch(/185% of the float model's size.*--artifact model\.int8\.onnx/);
  });

  it('keeps float when int8 is slower beyond measurement noise, and not when within it', () => {
    const slower = { sizeRatio: 0.5, float: { latencyUs: lat(100, 1000) }, int8: { latencyUs: lat(150, 1400) } };
    expect(defaultArtifact({ artifacts: both, quantization: { parity: slower } }).artifact).toBe('model.onnx');
    expect(int8Drawback(slower)).toMatch(/slower/);
    const noise = { sizeRatio: 0.5, float: { latencyUs: lat(100, 1000) }, int8: { latencyUs: lat(102, 1020) } };
    expect(defaultArtifact({ artifacts: both, quantization: { parity: noise } }).artifact).toBe('model.int8.onnx');
  });

  it('falls back on the file sizes when the report has no ratio, and ships int8 when nothing is known', () => {
    expect(int8Drawback({ float: { bytes: 1000 }, int8: { bytes: 1200 } })).toMatch(/120%/);
    expect(defaultArtifact({ artifacts: both, quantization: null }).artifact).toBe('model.int8.onnx');
    expect(
      defaultArtifact({
        artifacts: both,
        quantization: { parity: { sizeRatio: 0.3, float: { latencyUs: null }, int8: { latencyUs: null } } },
      }).artifact,
    ).toBe('model.int8.onnx');
  });

  it('ships what exists: float alone, or int8 alone even when larger', () => {
    expect(defaultArtifact({ artifacts: { 'model.onnx': 'f' }, quantization: null }).artifact).toBe('model.onnx');
    expect(defaultArtifact({ artifacts: { 'model.int8.onnx': 'q' }, quantization: { parity: { sizeRatio: 2 } } }).artifact).toBe(
      'model.int8.onnx',
    );
  });
});
