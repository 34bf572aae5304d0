"""Generates a legacy NPZ feature cache like the old pipeline's: one <key>.npz per LJSpeech-like
utterance with hidden_states (T, 1024) and mel_spectrogram (1, T, 80), float32; even samples
np.savez, odd samples np.savez_compressed. Deterministic for a given seed and sample index, so a
smaller cache is a prefix of a larger one.

usage: gen_npz.py OUT_DIR NUM_SAMPLES SEED MANIFEST_JSON [MIN_FRAMES]
MIN_FRAMES (default 150) is the shortest utterance; the longest is 800 frames.
Writes OUT_DIR/<key>.npz and, last, MANIFEST_JSON (its presence marks a complete cache).
"""

import json
import os
import sys

import numpy as np

HIDDEN_DIM = 1024
N_MELS = 80
PER_CHAPTER = 350  # LJSpeech chapters hold a few hundred utterances each


def key_of(i):
    return "LJ%03d-%04d" % (i // PER_CHAPTER + 1, i % PER_CHAPTER + 1)


def sample(seed, i, dim_scale, dim_offset, mel_base, min_frames=150):
    rng = np.random.default_rng([seed, i])
    t = int(rng.integers(min_frames, 801))
    # Per-dimension scale and offset make float16 exponents vary like real w2v-BERT states,
    # so deflate finds about as little redundancy (~0.93 of float16 bytes) as on real features.
    hidden = rng.standard_normal((t, HIDDEN_DIM), dtype=np.float32)
    hidden *= dim_scale
    hidden += dim_offset
    # Log-mel: a spectral tilt plus a smooth loudness contour with silence at both ends.
    contour = np.convolve(rng.normal(0.0, 1.0, t + 20), np.ones(21) / 21.0, mode="valid")
    edge = np.minimum(np.arange(t), np.arange(t)[::-1])
    silence = np.where(edge < 12, -6.0, 0.0)
    mel = mel_base[None, :] + (4.0 * contour + silence)[:, None]
    mel += rng.normal(0.0, 0.35, (t, N_MELS))
    mel = np.clip(mel, -11.5, 2.0).astype(np.float32)[None]
    return t, hidden, mel


def main():
    out_dir, n, seed, manifest_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    min_frames = int(sys.argv[5]) if len(sys.argv) > 5 else 150
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng([seed, 2**31])
    dim_scale = (np.exp(rng.normal(0.0, 0.5, HIDDEN_DIM)) * 0.3).astype(np.float32)
    dim_offset = rng.normal(0.0, 0.05, HIDDEN_DIM).astype(np.float32)
    mel_base = np.linspace(-0.5, -7.5, N_MELS)
    entries = []
    for i in range(n):
        key = key_of(i)
        t, hidden, mel = sample(seed, i, dim_scale, dim_offset, mel_base, min_frames)
        save = np.savez if i % 2 == 0 else np.savez_compressed
        save(os.path.join(out_dir, key + ".npz"), hidden_states=hidden, mel_spectrogram=mel)
        entries.append({"key": key, "frames": t})
    input_bytes = sum(e["frames"] * (HIDDEN_DIM + N_MELS) * 4 for e in entries)
    manifest = {"seed": seed, "min_frames": min_frames, "samples": entries, "input_bytes": input_bytes}
    with open(manifest_path + ".tmp", "w") as f:
        json.dump(manifest, f)
    os.replace(manifest_path + ".tmp", manifest_path)


if __name__ == "__main__":
    main()
