#!/usr/bin/env python3
"""A PyTorch trainer for Flotilla: trains a small MLP classifier and exports it to ONNX with torch.onnx.export.

Two ways to run it:

1. By hand, for a first model to import:
       python3 pytorch-trainer.py --x train-x.npy --y train-y.npy --out model.onnx [--epochs 5]
   then
       flotilla models import model.onnx --name digits --reference ref.npy --labels labels.json

2. As a retraining policy's outside trainer ({"trainer": {"kind": "command",
   "command": ["python3", "docs/examples/pytorch-trainer.py"], "timeoutSec": 600}}).
   Flotilla then runs it with FLOTILLA_TRAINER_MANIFEST naming a JSON manifest:
       files.trainX / files.trainY      field dataset rows (.npy float32, samples first) and labels (.npy int64):
                                        the parent dataset's rows, then dataset.fieldRows field samples last
       files.holdoutX / files.holdoutY  the newest field rows, held out for the champion/challenger gate
       files.trainCsv                   the same training rows as CSV (features..., label), for other tools
       urls.*, download.token           the same files by URL (Authorization: Bearer <token>), for a trainer
                                        whose disk is not the server's; used here when a local path is missing
       signature                        the champion's input/output signature (the challenger must match it)
       labels, champion, dataset, lineage, hyper
       output                           where to write model.onnx
   Exit non-zero (with a reason on stderr) to fail the retrain; nothing is registered then.

Needs Debian's python3-torch (and numpy); nothing is downloaded.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from torch import nn


class MLP(nn.Module):
    """Flatten -> 64 ReLU units -> classes, with softmax so the outputs are the probabilities agents report."""

    def __init__(self, features: int, classes: int, hidden: int = 64):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, classes))

    def forward(self, x):
        return torch.softmax(self.body(x), dim=-1)


def train(x: np.ndarray, y: np.ndarray, classes: int, epochs: int, lr: float, seed: int) -> MLP:
    torch.manual_seed(seed)
    features = int(np.prod(x.shape[1:]))
    model = MLP(features, classes)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xs = torch.from_numpy(x.astype(np.float32))
    ys = torch.from_numpy(y.astype(np.int64))
    loss_fn = nn.NLLLoss()
    g = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        order = torch.randperm(len(xs), generator=g)
        total = 0.0
        for start in range(0, len(xs), 64):
            idx = order[start:start + 64]
            opt.zero_grad()
            # NLL on log-probabilities: the model outputs softmax, so take its log (clamped against log(0)).
            loss = loss_fn(torch.log(model(xs[idx]).clamp_min(1e-7)), ys[idx])
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        print(f"epoch {epoch + 1}/{epochs}: loss {total / len(xs):.4f}", file=sys.stderr, flush=True)
    return model


def accuracy(model: MLP, x: np.ndarray, y: np.ndarray) -> float:
    if len(x) == 0:
        return float("nan")
    with torch.no_grad():
        pred = model(torch.from_numpy(x.astype(np.float32))).argmax(dim=-1).numpy()
    return float((pred == y).mean())


def export(model: MLP, sample_shape, out: str, input_name: str, output_name: str) -> None:
    model.eval()
    dummy = torch.zeros((1, *sample_shape), dtype=torch.float32)
    torch.onnx.export(model, dummy, out, input_names=[input_name], output_names=[output_name],
                      dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}}, opset_version=13)


def load(m: dict, key: str) -> np.ndarray:
    """A job file: from its local path when this machine has it, else downloaded with the job's token."""
    path = (m.get("files") or {}).get(key)
    if path and os.path.exists(path):
        return np.load(path)
    import io
    import urllib.request
    req = urllib.request.Request(m["urls"][key], headers={"Authorization": f"Bearer {m['download']['token']}"})
    with urllib.request.urlopen(req, timeout=300) as res:
        return np.load(io.BytesIO(res.read()))


def from_manifest(path: str) -> None:
    with open(path) as f:
        m = json.load(f)
    x, y = load(m, "trainX"), load(m, "trainY")
    hx, hy = load(m, "holdoutX"), load(m, "holdoutY")
    sig = m["signature"]
    classes = len(m["labels"]) if m.get("labels") else int(sig["outputs"][0]["shape"][-1])
    hyper = m.get("hyper") or {}
    # The field samples are what the champion got wrong in the field but there are few of them: repeat them
    # (hyper.fieldWeight times, default 4) so they count against thousands of parent rows.
    field = int(m["dataset"].get("fieldRows", 0))
    weight = int(hyper.get("fieldWeight", 4))
    if field > 0 and weight > 1:
        x = np.concatenate([x] + [x[-field:]] * (weight - 1))
        y = np.concatenate([y] + [y[-field:]] * (weight - 1))
    print(f"training on {len(x)} rows of {m['dataset']['name']} ({field} field rows x{weight}) for {m['champion']} ({classes} classes)", file=sys.stderr, flush=True)
    model = train(x, y, classes, int(hyper.get("epochs", 5)), float(hyper.get("learningRate", 1e-3)), int(hyper.get("seed", 1)))
    print(f"held-out field accuracy {accuracy(model, hx, hy):.3f}", file=sys.stderr, flush=True)
    # The challenger keeps the champion's tensor names so the signature matches and agents swap it in place.
    export(model, x.shape[1:], m["output"], sig["inputs"][0]["name"], sig["outputs"][0]["name"])
    print(m["output"])


def main() -> None:
    manifest = os.environ.get("FLOTILLA_TRAINER_MANIFEST")
    if manifest:
        from_manifest(manifest)
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--x", required=True, help="training inputs (.npy, samples first)")
    p.add_argument("--y", required=True, help="integer labels (.npy)")
    p.add_argument("--out", required=True, help="where to write the ONNX model")
    p.add_argument("--classes", type=int, help="number of classes (default: max label + 1)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--input-name", default="input")
    p.add_argument("--output-name", default="probabilities")
    a = p.parse_args()
    x, y = np.load(a.x), np.load(a.y)
    model = train(x, y, a.classes or int(y.max()) + 1, a.epochs, a.lr, a.seed)
    export(model, x.shape[1:], a.out, a.input_name, a.output_name)
    print(a.out)


if __name__ == "__main__":
    main()
