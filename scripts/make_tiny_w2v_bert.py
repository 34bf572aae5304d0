"""Builds a random-weight Wav2Vec2BertModel and saves it as a local model directory.

The directory is laid out as a Hugging Face download (config.json, model.safetensors,
preprocessor_config.json), so scripts/export_w2v_bert.py treats it like facebook/w2v-bert-2.0.
Nothing is downloaded: the architecture options are those of w2v-bert-2.0 (relative-key position
embeddings, 64 left / 8 right, depthwise kernel 31, swish), only smaller. Tests, the demo and the
benchmark use it; its features are random and mean nothing.

    python scripts/make_tiny_w2v_bert.py OUT_DIR [--layers 3 --hidden 32 --heads 2 ...]
"""

import argparse
import sys

import torch
from transformers import SeamlessM4TFeatureExtractor, Wav2Vec2BertConfig, Wav2Vec2BertModel


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("out_dir")
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--heads", type=int, default=2)
    p.add_argument("--intermediate", type=int, help="feed-forward width (default 4 x hidden)")
    p.add_argument("--kernel", type=int, default=31, help="depthwise convolution kernel")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    config = Wav2Vec2BertConfig(
        hidden_size=a.hidden,
        num_hidden_layers=a.layers,
        num_attention_heads=a.heads,
        intermediate_size=a.intermediate or 4 * a.hidden,
        conv_depthwise_kernel_size=a.kernel,
        # As facebook/w2v-bert-2.0's config.json says (they are also the class defaults).
        feature_projection_input_dim=160,
        hidden_act="swish",
        position_embeddings_type="relative_key",
        left_max_position_embeddings=64,
        right_max_position_embeddings=8,
        layer_norm_eps=1e-5,
        add_adapter=False,
    )
    model = Wav2Vec2BertModel(config).eval()
    # Initialisation leaves some weights at exact 0 or 1 (layer norms, biases); random values make
    # every code path, and every mistake in it, show in the output.
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() == 1:
                base = 1.0 if bool(torch.all(param == 1)) else 0.0
                param.copy_(base + 0.1 * torch.randn_like(param))
    model.save_pretrained(a.out_dir)
    # The front end as w2v-bert-2.0 ships it: padding_value 1 pads an odd frame count.
    SeamlessM4TFeatureExtractor(
        feature_size=80, num_mel_bins=80, sampling_rate=16000, stride=2, padding_value=1.0,
        return_attention_mask=True,
    ).save_pretrained(a.out_dir)
    params = sum(p.numel() for p in model.parameters())
    print(f"random Wav2Vec2BertModel {a.layers} x {a.hidden} ({params} parameters) -> {a.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
