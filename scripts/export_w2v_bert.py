"""Exports layer N of a Wav2Vec2BertModel (facebook/w2v-bert-2.0 or a local copy) to ONNX.

    python scripts/export_w2v_bert.py MODEL OUT_DIR --layer N [--opset 17]

MODEL is a Hugging Face name or a local directory laid out as the download is (config.json,
model.safetensors, preprocessor_config.json). OUT_DIR receives:

- model.onnx: inputs `input_features` (batch, frames, 160) float32 and `attention_mask`
  (batch, frames) int64, as SeamlessM4TFeatureExtractor makes them; one output `hidden_states`
  (batch, frames, hidden) = the model's hidden_states[N]. The encoder stops after layer N, so later
  layers are never computed. Batch and frames are dynamic. Past 2 GB the weights go to
  model.onnx.data (ONNX external data).
- preprocessor_config.json, copied: h5shard's front end reads its padding value and stride.
- w2v_bert_export.json: layer, hidden size, source model, opset, export version.

The script then checks its own export: ONNX Runtime against torch's hidden_states[N] on a few
random lengths (and a padded batch), prints the worst absolute difference, and exits non-zero
when it is not within float32 rounding. h5shard's `w2v-bert` extractor loads OUT_DIR.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import torch
import transformers
from transformers import Wav2Vec2BertModel

EXPORT_FORMAT = "h5shard-w2v-bert-export"
EXPORT_VERSION = 1
TWO_GB = 2**31


class LayerOutput(torch.nn.Module):
    """hidden_states[N] of a model whose encoder keeps only its first N layers."""

    def __init__(self, model: Wav2Vec2BertModel):
        super().__init__()
        self.model = model

    def forward(self, input_features, attention_mask):
        return self.model(input_features=input_features, attention_mask=attention_mask).last_hidden_state


def load(name: str) -> Wav2Vec2BertModel:
    model = Wav2Vec2BertModel.from_pretrained(name, attn_implementation="eager")
    return model.eval()


def reference(model, feats, mask, layer):
    with torch.no_grad():
        out = model(input_features=feats, attention_mask=mask, output_hidden_states=True)
    return out.hidden_states[layer].numpy()


def cases(rng, dim):
    """A few (features, mask) pairs: odd and even lengths, one frame, and a padded batch."""
    out = []
    for frames in (1, 37, 150):
        out.append((rng.standard_normal((1, frames, dim), dtype=np.float32), np.ones((1, frames), np.int64)))
    feats = rng.standard_normal((2, 64, dim), dtype=np.float32)
    mask = np.ones((2, 64), np.int64)
    mask[1, 41:] = 0
    out.append((feats, mask))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("model", help="Hugging Face name or local model directory")
    p.add_argument("out_dir")
    p.add_argument("--layer", type=int, required=True, help="hidden_states index (17 in MaskGCT)")
    p.add_argument("--opset", type=int, default=17)
    a = p.parse_args()

    full = load(a.model)
    config = full.config
    if config.add_adapter or getattr(full, "intermediate_ffn", None) is not None:
        sys.exit(f"error: {a.model} has an adapter after the encoder; hidden_states[N] would not be its output")
    if not 1 <= a.layer <= config.num_hidden_layers:
        sys.exit(f"error: --layer {a.layer} is outside 1..{config.num_hidden_layers} (num_hidden_layers of {a.model})")

    truncated = load(a.model)
    truncated.encoder.layers = truncated.encoder.layers[: a.layer]
    wrapper = LayerOutput(truncated).eval()

    os.makedirs(a.out_dir, exist_ok=True)
    onnx_path = os.path.join(a.out_dir, "model.onnx")
    dim = config.feature_projection_input_dim
    example = (torch.randn(2, 24, dim), torch.ones(2, 24, dtype=torch.int64))
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "model.onnx")
        torch.onnx.export(
            wrapper, example, raw, dynamo=False, opset_version=a.opset,
            input_names=["input_features", "attention_mask"], output_names=["hidden_states"],
            dynamic_axes={
                "input_features": {0: "batch", 1: "frames"},
                "attention_mask": {0: "batch", 1: "frames"},
                "hidden_states": {0: "batch", 1: "frames"},
            },
        )
        proto = onnx.load(raw)
        weights = sum(t.ByteSize() for t in proto.graph.initializer)
        for stale in ("model.onnx", "model.onnx.data"):
            if os.path.exists(os.path.join(a.out_dir, stale)):
                os.remove(os.path.join(a.out_dir, stale))
        external = weights >= TWO_GB - 2**24
        onnx.save_model(proto, onnx_path, save_as_external_data=external,
                        all_tensors_to_one_file=True, location="model.onnx.data")

    src_pre = os.path.join(a.model, "preprocessor_config.json") if os.path.isdir(a.model) else None
    if src_pre is None:
        from huggingface_hub import hf_hub_download
        src_pre = hf_hub_download(a.model, "preprocessor_config.json")
    shutil.copyfile(src_pre, os.path.join(a.out_dir, "preprocessor_config.json"))
    meta = {
        "format": EXPORT_FORMAT,
        "export_version": EXPORT_VERSION,
        "layer": a.layer,
        "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_hidden_layers,
        "feature_dim": dim,
        "source_model": a.model,
        "opset": a.opset,
        "external_data": external,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    with open(os.path.join(a.out_dir, "w2v_bert_export.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")

    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    worst = 0.0
    scale = 0.0
    for feats, mask in cases(np.random.default_rng(0), dim):
        ref = reference(full, torch.from_numpy(feats), torch.from_numpy(mask), a.layer)
        got = session.run(None, {"input_features": feats, "attention_mask": mask})[0]
        valid = mask.astype(bool)
        worst = max(worst, float(np.abs(got - ref)[valid].max()))
        scale = max(scale, float(np.abs(ref[valid]).max()))
    # float32 rounding, grown over the layers: 1e-5 of the largest value per computed layer.
    tolerance = 1e-5 * max(scale, 1.0) * a.layer
    size = os.path.getsize(onnx_path)
    print(f"exported hidden_states[{a.layer}] of {a.model} ({config.hidden_size} wide) -> {onnx_path}"
          f" ({size / 1e6:.2f} MB{', weights in model.onnx.data' if external else ''})")
    print(f"check: onnxruntime vs torch worst abs diff {worst:.3g} (largest value {scale:.3g},"
          f" tolerance {tolerance:.3g})")
    if not worst <= tolerance:
        print("error: the export does not match torch within float32 rounding", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
