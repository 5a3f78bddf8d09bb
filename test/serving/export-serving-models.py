#!/usr/bin/python3
"""Exports the models the serving end-to-end test ships to an agent (random weights, fixed seeds, opset 13).

Usage: export-serving-models.py OUT_DIR
Writes OUT_DIR/vision.onnx (torchvision mobilenet_v3_small, input [batch, 3, 64, 64], dynamic batch),
OUT_DIR/encoder.onnx (a tiny transformer encoder: int64 input_ids and attention_mask [batch, seq], outputs
logits [batch, 3] and hidden [batch, seq, 32]) and OUT_DIR/gru.onnx (a GRU with its state in and out:
x [batch, seq, 8] and h0 [1, batch, 16] in, y [batch, seq, 16] and hn [1, batch, 16] out), then prints
{"models": [...]} naming each file with its input and output names.
"""
import json
import math
import os
import sys
import warnings

import torch
import torch.nn as nn
import torchvision.models as tvm

warnings.filterwarnings("ignore")
torch.set_num_threads(2)
OPSET = 13
VOCAB, DIM, MAX_LEN = 100, 32, 64


class Encoder(nn.Module):
    """Token + position embeddings, one pre-norm block of masked self-attention, masked mean pooling, a head."""

    def __init__(self):
        super().__init__()
        self.tok, self.pos = nn.Embedding(VOCAB, DIM), nn.Embedding(MAX_LEN, DIM)
        self.n1, self.qkv, self.proj = nn.LayerNorm(DIM), nn.Linear(DIM, 3 * DIM), nn.Linear(DIM, DIM)
        self.n2, self.mlp = nn.LayerNorm(DIM), nn.Sequential(nn.Linear(DIM, 2 * DIM), nn.GELU(), nn.Linear(2 * DIM, DIM))
        self.head = nn.Linear(DIM, 3)

    def forward(self, input_ids, attention_mask):
        b, t = input_ids.shape
        x = self.tok(input_ids) + self.pos(torch.arange(t).unsqueeze(0))
        q, k, v = self.qkv(self.n1(x)).reshape(b, t, 3, 4, DIM // 4).permute(2, 0, 3, 1, 4)
        keep = attention_mask.to(torch.float32)
        scores = q @ k.transpose(-2, -1) / math.sqrt(DIM // 4) + (1.0 - keep)[:, None, None, :] * -1e4
        x = x + self.proj((torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, DIM))
        hidden = x + self.mlp(self.n2(x))
        pooled = (hidden * keep[:, :, None]).sum(1) / keep.sum(1, keepdim=True).clamp(min=1.0)
        return self.head(pooled), hidden


class Stateful(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 16, batch_first=True)

    def forward(self, x, h0):
        return self.gru(x, h0)


def export(model, args, path, inputs, outputs, axes):
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, args, path, opset_version=OPSET, input_names=inputs, output_names=outputs, dynamic_axes=axes)
    return {"file": os.path.basename(path), "inputs": inputs, "outputs": outputs}


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(7)
    models = [
        export(tvm.mobilenet_v3_small(num_classes=10), (torch.rand(2, 3, 64, 64),), os.path.join(out_dir, "vision.onnx"),
               ["image"], ["logits"], {"image": {0: "batch"}, "logits": {0: "batch"}}),
        export(Encoder(), (torch.randint(0, VOCAB, (2, 5)), torch.ones(2, 5, dtype=torch.int64)), os.path.join(out_dir, "encoder.onnx"),
               ["input_ids", "attention_mask"], ["logits", "hidden"],
               {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}, "logits": {0: "batch"}, "hidden": {0: "batch", 1: "seq"}}),
        export(Stateful(), (torch.rand(2, 5, 8), torch.zeros(1, 2, 16)), os.path.join(out_dir, "gru.onnx"),
               ["x", "h0"], ["y", "hn"], {"x": {0: "batch", 1: "seq"}, "h0": {1: "batch"}, "y": {0: "batch", 1: "seq"}, "hn": {1: "batch"}}),
    ]
    print(json.dumps({"torch": torch.__version__, "models": models}))


if __name__ == "__main__":
    main(sys.argv[1])
