#!/usr/bin/python3
"""Exports a corpus of real ONNX models (torch.onnx, fixed seeds, briefly trained) for the upgrader and quantizer tests.

Usage: make-corpus.py OUT_DIR
Writes OUT_DIR/<name>.onnx, OUT_DIR/<name>.calib.npy, OUT_DIR/<name>.eval.npy and OUT_DIR/manifest.json,
and prints the manifest. Exports that the exporter itself cannot do (an op missing at an old opset) are
listed under "skipped" with the exporter's message, so the corpus says what it does not cover.
Small inputs (64x64 images, 64-frame spectrograms, 32-token sequences) keep it to a few minutes on 2 cores.
Each architecture is first trained for a few steps: a shipped model has decision margins, while a randomly
initialised classifier puts its top two logits within rounding of each other, which would make any int8 parity
figure noise. Image classifiers learn images whose class is in the picture (a grating's orientation, frequency and
colour over smooth clutter), as a vision model learns its dataset, and must reach 80% on held-out images; the other
kinds learn a fixed random rule over their inputs. BatchNorm statistics are then recomputed over the training
inputs, and a classifier that still predicts fewer than 3 classes over held-out rows fails the build: a model that
computes a constant agrees with any int8 model, and would count as a pass that means nothing.
"""
import json
import math
import multiprocessing
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
from onnx import numpy_helper

warnings.filterwarnings("ignore")
torch.set_num_threads(2)
OPSETS = [9, 11, 13, 17]
IMG = 64
VOCAB = 100


class Attention(nn.Module):
    """Plain multi-head self-attention; nn.MultiheadAttention's fused fast path does not trace at old opsets."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.qkv, self.proj = heads, nn.Linear(dim, dim * 3), nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.heads), dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.n1, self.att, self.n2 = nn.LayerNorm(dim), Attention(dim, heads), nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Dropout(0.1), nn.Linear(dim * 2, dim))

    def forward(self, x):
        x = x + self.att(self.n1(x))
        return x + self.mlp(self.n2(x))


class TinyViT(nn.Module):
    def __init__(self, dim=48, patch=8, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, patch)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, (IMG // patch) ** 2 + 1, dim) * 0.02)
        self.blocks = nn.Sequential(Block(dim, 4), Block(dim, 4))
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, classes)

    def forward(self, x):
        p = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(p.shape[0], -1, -1), p], dim=1) + self.pos
        return self.head(self.norm(self.blocks(x))[:, 0])


class TokenEncoder(nn.Module):
    """A tiny text classifier on int64 token ids: Embedding (Gather), attention blocks, mean pool."""

    def __init__(self, dim=32, classes=4):
        super().__init__()
        self.emb, self.pos = nn.Embedding(VOCAB, dim), nn.Parameter(torch.randn(1, 32, dim) * 0.02)
        self.blocks, self.head = nn.Sequential(Block(dim, 2), Block(dim, 2)), nn.Linear(dim, classes)

    def forward(self, ids):
        x = self.emb(ids) + self.pos[:, : ids.shape[1]]
        return torch.log_softmax(self.head(self.blocks(x).mean(dim=1)), dim=-1)


class SeqModel(nn.Module):
    """LSTM then GRU over feature frames (e.g. sensor or keyword-spotting features)."""

    def __init__(self, feats=12, classes=5):
        super().__init__()
        self.lstm = nn.LSTM(feats, 24, batch_first=True)
        self.gru = nn.GRU(24, 16, batch_first=True, bidirectional=True)
        self.head = nn.Linear(32, classes)

    def forward(self, x):
        h, _ = self.lstm(x)
        h, _ = self.gru(h)
        return self.head(h[:, -1])


class AudioConv(nn.Module):
    """1-D conv keyword spotter on a 40-band log-mel spectrogram: Conv1d, BatchNorm1d, pooling, padding.

    About 19,000 weights, the size of the small keyword spotters people ship (res8-narrow 20k); at 11,000 its graph
    was 4% of the file, and the int8 file of an opset-9 export 30.1-30.3% of float.
    """

    def __init__(self, classes=6):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(40, 48, 5, padding=2), nn.BatchNorm1d(48), nn.ReLU(), nn.MaxPool1d(3, 2, ceil_mode=True),
            nn.Conv1d(48, 48, 3, dilation=2), nn.BatchNorm1d(48), nn.ReLU6(), nn.AvgPool1d(2),
            nn.Conv1d(48, 64, 3, groups=4), nn.ReLU(),
        )
        self.head = nn.Linear(64, classes)

    def forward(self, x):
        h = self.body(F.pad(x, (1, 1), mode="reflect"))
        return torch.softmax(self.head(h.amax(dim=2)), dim=1)


class TinySegmenter(nn.Module):
    """Encoder-decoder with Upsample/Resize, Pad, Split and a channel softmax (an old-opset axis-1 Softmax on rank 4).

    About 29,000 weights: small, but weights rather than graph make most of the file, as in a segmenter people ship
    (the first version had 1,200, and its int8 file was mostly Q/DQ nodes: 34-51% of float).
    """

    def __init__(self, classes=3):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),
                                 nn.Conv2d(32, 64, 3, 2, 1), nn.BatchNorm2d(64), nn.ReLU())
        self.mid = nn.Conv2d(32, 32, 3, padding=1)
        self.dec = nn.Conv2d(64, classes, 1)

    def forward(self, x):
        h = self.enc(x)
        a, b = torch.split(h, 32, dim=1)
        b = self.mid(F.pad(b, (0, 0, 0, 0), value=0.0))
        h = torch.cat([a, torch.clamp(b, -2.0, 2.0)], dim=1)
        h = F.interpolate(h, scale_factor=4, mode="nearest")
        return torch.softmax(self.dec(h), dim=1)


def vision(ctor):
    return lambda: ctor(num_classes=10)


ARCHS = {
    "mobilenet_v2": (vision(tvm.mobilenet_v2), "image"),
    "mobilenet_v3_small": (vision(tvm.mobilenet_v3_small), "image"),
    "resnet18": (vision(tvm.resnet18), "image"),
    "squeezenet1_1": (vision(tvm.squeezenet1_1), "image"),
    "shufflenet_v2_x0_5": (vision(tvm.shufflenet_v2_x0_5), "image"),
    "efficientnet_b0": (vision(tvm.efficientnet_b0), "image"),
    "mnasnet0_5": (vision(tvm.mnasnet0_5), "image"),
    "regnet_y_400mf": (vision(tvm.regnet_y_400mf), "image"),
    "tiny_vit": (TinyViT, "image"),
    "seq_lstm_gru": (SeqModel, "sequence"),
    "audio_conv1d": (AudioConv, "audio"),
    "token_encoder": (TokenEncoder, "tokens"),
    "tiny_segmenter": (TinySegmenter, "segment"),
}


def smooth_images(rng, n):
    """Images with smooth structure (blurred blobs and gradients), normalised like ImageNet inputs."""
    yy, xx = np.mgrid[0:IMG, 0:IMG] / IMG
    out = np.empty((n, 3, IMG, IMG), np.float32)
    for i in range(n):
        for c in range(3):
            img = rng.uniform(-0.5, 0.5) * xx + rng.uniform(-0.5, 0.5) * yy
            for _ in range(4):
                cx, cy, s = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
                img = img + rng.uniform(-1, 1) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s * s))
            out[i, c] = (img - img.mean()) / (img.std() + 1e-6)
    return out


CLASSES = 10


def class_images(rng, n):
    """Images of CLASSES classes and their labels: a class-specific grating (one of 5 orientations at 2 or 5 cycles per
    image, its colour balance rotated by class) at a random phase and strength, over half-strength smooth clutter.

    Labels by a rule over random images (what the corpus used before) left SqueezeNet at 29% and RegNetY at 41% after
    training, with margins a real model does not have: a global-pooling network cannot read a rule over pixel positions.
    """
    yy, xx = np.mgrid[0:IMG, 0:IMG] / IMG
    labels = rng.integers(0, CLASSES, n)
    clutter = smooth_images(rng, n)
    out = np.empty_like(clutter)
    for i, c in enumerate(labels):
        theta = np.pi * (c % 5) / 5 + rng.normal(0, 0.08)
        freq = (2 if c < 5 else 5) * rng.uniform(0.9, 1.1)
        grating = np.sin(2 * np.pi * freq * (np.cos(theta) * xx + np.sin(theta) * yy) + rng.uniform(0, 2 * np.pi))
        colour = np.array([1.0, 0.6, 0.3])[np.roll(np.arange(3), c % 3)]
        out[i] = 0.5 * clutter[i] + rng.uniform(1.2, 1.8) * colour[:, None, None] * grating[None]
    return out.astype(np.float32), labels


def spectrograms(rng, n, frames=64, bands=40):
    """Log-mel-like: a falling spectral envelope, a few harmonic tracks and onsets, plus a little noise."""
    f = np.arange(bands)[:, None]
    out = np.empty((n, bands, frames), np.float32)
    for i in range(n):
        env = -0.08 * f + rng.normal(0, 0.3, (1, frames)).cumsum(axis=1) * 0.1
        for _ in range(3):
            track = rng.uniform(3, bands - 3) + np.sin(np.arange(frames) / rng.uniform(4, 12)) * 2
            env = env + 2.0 * np.exp(-((f - track[None, :]) ** 2) / 4.0)
        out[i] = env + rng.normal(0, 0.1, (bands, frames))
    return out


def inputs_for(kind, rng, n):
    if kind == "image":
        return class_images(rng, n)[0]
    if kind == "segment":
        return smooth_images(rng, n)
    if kind == "audio":
        return spectrograms(rng, n)
    if kind == "sequence":
        t = np.linspace(0, 4 * np.pi, 20)[None, :, None]
        phase = rng.uniform(0, 2 * np.pi, (n, 1, 12))
        return (np.sin(t + phase) + rng.normal(0, 0.1, (n, 20, 12))).astype(np.float32)
    return rng.integers(0, VOCAB, (n, 32)).astype(np.int64)


def constants_as_nodes(src, dst):
    """Moves every initializer into a Constant node, as some exporters and hand-edited detectors do."""
    m = onnx.load(src)
    g = m.graph
    nodes = [onnx.helper.make_node("Constant", [], [t.name], value=t) for t in g.initializer]
    inits = {t.name for t in g.initializer}
    kept_inputs = [i for i in g.input if i.name not in inits]
    del g.input[:]
    g.input.extend(kept_inputs)
    del g.initializer[:]
    new_nodes = nodes + list(g.node)
    del g.node[:]
    g.node.extend(new_nodes)
    onnx.save(m, dst)


# Image classifiers reach 81-100% on held-out images after 120 steps and 89-100% after 240, with the 10th-percentile
# top-two margin 1.1-5x wider (measured on SqueezeNet, ShuffleNetV2, MNASNet, the tiny ViT); the other kinds are
# small and learn their rule in 120.
FIT_STEPS = {"image": 240}
MIN_IMAGE_ACCURACY = 0.8


def rule_features(kind, x):
    """Coarse features a fixed random rule labels by (kinds without classes of their own): band means, frames, or a bag
    of token ids."""
    n = x.shape[0]
    if kind == "tokens":
        return np.stack([np.bincount(row, minlength=VOCAB) for row in x]).astype(np.float32)
    if kind == "audio":
        return x.mean(axis=2)
    return x.reshape(n, -1)


# Adam's step size per architecture: SqueezeNet ends in a ReLU before its pooling, and at 2e-3 that ReLU dies for
# every input within 120 steps (its output is then all zeros, a model that computes nothing).
LR = {"squeezenet1_1": 5e-4}


def fit(model, kind, lr=2e-3):
    """A few Adam steps towards the images' classes, or labels from a fixed random linear rule, so the model has real
    decision margins."""
    rng = np.random.default_rng(5)
    if kind == "image":
        x, labels = class_images(rng, 512)
    else:
        x = inputs_for(kind, rng, 512)
    xt = torch.from_numpy(x)
    with torch.no_grad():
        out = model.eval()(xt[:2])
    classes = out.shape[-1]
    if kind == "image":
        y = torch.from_numpy(labels)
    else:
        feats = rule_features(kind, x)
        feats = (feats - feats.mean(axis=0)) / (feats.std(axis=0) + 1e-6)
        y = torch.from_numpy((feats @ np.random.default_rng(6).normal(size=(feats.shape[1], classes))).argmax(axis=1))
    # Heads that end in softmax or log_softmax are trained on their log-probabilities.
    probs = bool(torch.allclose(out.sum(dim=-1), torch.ones(2), atol=1e-4))
    logp = bool(torch.allclose(out.exp().sum(dim=-1), torch.ones(2), atol=1e-4))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for step in range(FIT_STEPS.get(kind, 120)):
        idx = torch.from_numpy(rng.integers(0, len(x), 32))
        o = model(xt[idx])
        loss = F.nll_loss(torch.log(o + 1e-9), y[idx]) if probs else F.nll_loss(o, y[idx]) if logp else F.cross_entropy(o, y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    precise_batchnorm(model, xt)
    return model.eval()


def precise_batchnorm(model, xt):
    """Recomputes every BatchNorm's running statistics as the plain average over the training inputs ("precise BN").

    A shipped model's statistics match its weights; after 120 steps they do not, least of all where the architecture
    sets a slow momentum (MNASNet 3e-4, MobileNetV3 1e-2): there the stale statistics made the eval-mode model output
    the same class for every input, which any int8 model "agrees" with.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    model.train()
    with torch.no_grad():
        for i in range(0, len(xt), 64):
            model(xt[i : i + 64])
    model.eval()


def check_trained(name, kind, model):
    """Refuses a classifier that predicts fewer than 3 classes over held-out rows (parity on it would be vacuous), or an
    image classifier below MIN_IMAGE_ACCURACY on held-out images; returns its accuracy where the data has classes."""
    rng = np.random.default_rng(12)
    heldout, labels = class_images(rng, 200) if kind == "image" else (inputs_for(kind, rng, 48), None)
    with torch.no_grad():
        predicted = model(torch.from_numpy(heldout)).argmax(dim=-1).numpy()
    classes = len(set(predicted.tolist()))
    if classes < 3:
        raise RuntimeError(f"make-corpus: {name} predicts {classes} class(es) over {len(heldout)} held-out rows; "
                         "a degenerate model would pass any int8 parity check. Change its training (LR, FIT_STEPS).")
    if labels is None:
        return None
    accuracy = float((predicted == labels).mean())
    if accuracy < MIN_IMAGE_ACCURACY:
        raise RuntimeError(f"make-corpus: {name} classifies {accuracy:.0%} of held-out images, below "
                           f"{MIN_IMAGE_ACCURACY:.0%}; an undertrained model has margins no shipped one has. Change FIT_STEPS or LR.")
    return accuracy


def train_arch(task):
    """Trains one architecture once; every opset's export starts from the same weights."""
    arch, out_dir = task
    torch.set_num_threads(1)
    torch.manual_seed(7)
    ctor, kind = ARCHS[arch]
    model = ctor()
    accuracy = None
    if kind != "segment":
        fit(model, kind, LR.get(arch, 2e-3))
        accuracy = check_trained(arch, kind, model)
    torch.save(model.state_dict(), os.path.join(out_dir, f"_{arch}.pt"))
    return arch, accuracy


# Held-out rows for the int8 parity gate. At 99% top-1 agreement, 48 rows would demand 48 of 48 (one flip in 48 is
# 97.9%): a gate of 100% judged on a sample too small to tell 99.5% from 98%. 200 rows allow the 2 flips 99% means.
HELDOUT_ROWS = 200


def export(arch, ctor, kind, opset, folding, dynamic, out_dir):
    torch.manual_seed(7)
    model = ctor()
    model.load_state_dict(torch.load(os.path.join(out_dir, f"_{arch}.pt")))
    model.eval()
    rng = np.random.default_rng(11)
    calib, evals = inputs_for(kind, rng, 32), inputs_for(kind, rng, 4 if dynamic else 1)
    # Held-out inputs for int8 parity, apart from calibration and from the export's trace sample; a fixed-batch
    # model runs them one at a time.
    heldout = inputs_for(kind, rng, HELDOUT_ROWS)
    name = f"{arch}-op{opset}-{'fold' if folding else 'nofold'}-{'dyn' if dynamic else 'fixed'}"
    path = os.path.join(out_dir, name + ".onnx")
    in_name = "ids" if kind == "tokens" else "input"
    axes = {in_name: {0: "batch"}, "output": {0: "batch"}} if dynamic else None
    with torch.no_grad():
        torch.onnx.export(model, torch.from_numpy(evals), path, opset_version=opset, do_constant_folding=folding,
                          input_names=[in_name], output_names=["output"], dynamic_axes=axes)
    np.save(os.path.join(out_dir, name + ".calib.npy"), calib)
    np.save(os.path.join(out_dir, name + ".eval.npy"), evals)
    np.save(os.path.join(out_dir, name + ".heldout.npy"), heldout)
    return name, in_name, evals


def build(task):
    """One (architecture, opset) export plus, for some, its Constant-node variant; runs in a worker process."""
    ai, arch, opset, oi, out_dir = task
    torch.set_num_threads(1)
    ctor, kind = ARCHS[arch]
    folding = (ai + oi) % 2 == 0
    dynamic = (ai + oi) % 3 != 2
    try:
        name, in_name, evals = export(arch, ctor, kind, opset, folding, dynamic, out_dir)
    except Exception as e:  # noqa: BLE001 - the exporter's own limits are recorded, not fatal
        return [], [{"arch": arch, "opset": opset, "reason": str(e).splitlines()[0][:300]}]
    entry = {"file": name + ".onnx", "arch": arch, "opset": opset, "constantFolding": folding, "dynamicBatch": dynamic,
             "constantNodes": False, "kind": "other" if kind == "segment" else "classifier", "data": kind,
             "inputs": [{"name": in_name, "shape": ["batch" if dynamic else evals.shape[0], *evals.shape[1:]], "dtype": str(evals.dtype)}],
             "calib": name + ".calib.npy", "eval": name + ".eval.npy", "heldout": name + ".heldout.npy"}
    models = [entry]
    # Weights in Constant nodes: one variant per architecture, at an old opset where it hurts most.
    if opset == (9 if ai % 2 == 0 else 11):
        cname = name + "-constnodes"
        constants_as_nodes(os.path.join(out_dir, entry["file"]), os.path.join(out_dir, cname + ".onnx"))
        models.append({**entry, "file": cname + ".onnx", "constantNodes": True})
    return models, []


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    tasks = [(ai, arch, opset, oi, out_dir) for ai, arch in enumerate(ARCHS) for oi, opset in enumerate(OPSETS)]
    # Two workers: the corpus must build in a few minutes on a 2-core CI machine; results keep task order.
    with multiprocessing.get_context("fork").Pool(2) as pool:
        accuracy = dict(pool.map(train_arch, [(arch, out_dir) for arch in ARCHS], chunksize=1))
        results = pool.map(build, tasks, chunksize=1)
    for arch in ARCHS:
        os.remove(os.path.join(out_dir, f"_{arch}.pt"))
    # Float accuracy on 200 held-out images of the image classifiers' own classes (null where the data has none).
    models = [{**m, "floatAccuracy": accuracy[m["arch"]]} for ms, _ in results for m in ms]
    skipped = [s for _, ss in results for s in ss]
    manifest = {"torch": torch.__version__, "onnx": onnx.__version__, "models": models, "skipped": skipped}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
