"""The GPU check: h5shard preprocess with ONNX Runtime's WebGPU provider against the original
pipeline (transformers on torch CUDA, batch 1, fp32, all 24 layers), in one run, on a corpus
synthesized here.

    python3 bench/gpu_check.py WORK_DIR        (bench/gpu_check.sh sets the environment)

1. Builds a w2v-BERT 2.0-shaped model with random weights from its transformers config
   (24 layers x 1024, nothing downloaded; scripts/make_tiny_w2v_bert.py) and exports layer 17
   with scripts/export_w2v_bert.py (which checks ONNX Runtime against torch on the CPU).
2. Writes >= 300 speech-like WAVs (16 kHz PCM16: voiced harmonics on a moving pitch, syllable
   envelopes, noise bursts) whose durations follow LJSpeech's (1.1-10.1 s, mean about 6.6 s).
3. Times `h5shard preprocess` (WAV to cache: decode, fbank, mel on the CPU workers, the model on
   the GPU, float16 + deflate) and its peak RSS; then the original pipeline on the same WAVs
   (read, SeamlessM4TFeatureExtractor, Wav2Vec2BertModel on cuda with output_hidden_states,
   hidden_states[17], Amphion's mel, h5py writer float16 gzip 4); then h5shard again with
   float32 storage on the first clips, to compare its hidden states with torch's in float32.
4. Prints audio seconds per second of both, the ratio, peak RSS, the worst difference; writes
   the same as JSON to $OUT/gpu_check.json when OUT is set.

GPU_CHECK_TINY=1 runs the same steps small on a CPU box (3 x 32 model, 12 clips, torch on the
CPU, ONNX Runtime's CPU provider) to prove the script. Environment: GPU_CHECK_CLIPS (default
300), GPU_CHECK_PROVIDER (default webgpu), GPU_CHECK_BATCH (default 0: auto), DENO_CMD (how to
run deno, default "deno run --cached-only -A"), H5SHARD_ARGS (more preprocess flags).
"""

import json
import os
import shlex
import subprocess
import sys
import time
import wave

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))

TINY = os.environ.get("GPU_CHECK_TINY") == "1"
CLIPS = int(os.environ.get("GPU_CHECK_CLIPS", "12" if TINY else "300"))
PROVIDER = os.environ.get("GPU_CHECK_PROVIDER", "cpu" if TINY else "webgpu")
BATCH = os.environ.get("GPU_CHECK_BATCH", "0")
CHECK_CLIPS = 6 if TINY else 40
SHAPE = (
    {"layers": 3, "hidden": 32, "heads": 2, "layer": 2}
    if TINY
    else {"layers": 24, "hidden": 1024, "heads": 16, "layer": 17}
)
SR = 16000


def log(msg):
    print(f"[gpu_check {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def build_export(work):
    model = os.path.join(work, "model")
    export = os.path.join(work, f"export_l{SHAPE['layer']}")
    if not os.path.exists(os.path.join(export, "w2v_bert_export.json")):
        t = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts/make_tiny_w2v_bert.py"), model,
                        "--layers", str(SHAPE["layers"]), "--hidden", str(SHAPE["hidden"]),
                        "--heads", str(SHAPE["heads"])], check=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts/export_w2v_bert.py"), model, export,
                        "--layer", str(SHAPE["layer"])], check=True)
        log(f"model {SHAPE['layers']} x {SHAPE['hidden']} built and exported in {time.perf_counter() - t:.0f} s")
    size = sum(os.path.getsize(os.path.join(export, f)) for f in os.listdir(export))
    return model, export, size


def durations(n, rng):
    """LJSpeech-like: mean 6.6 s, sd 2.2 s, within 1.1-10.1 s."""
    if TINY:
        return rng.uniform(0.2, 3.0, n)
    return np.clip(rng.normal(6.6, 2.2, n), 1.1, 10.1)


def speech_like(seconds, rng):
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = rng.uniform(90, 220) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.2, 0.8) * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * rng.uniform(3, 5) * t + rng.uniform(0, 6)), 0, None) ** 2
    noise = rng.standard_normal(n) * (envelope < 0.05) * 0.05
    x = 0.25 * voiced * envelope + noise
    return (np.clip(x, -1, 1) * 32767).astype("<i2")


def write_corpus(work, rng):
    root = os.path.join(work, "corpus")
    wavs = os.path.join(root, "wavs")
    if os.path.isdir(wavs) and len(os.listdir(wavs)) == CLIPS:
        return root, sum(_frames(os.path.join(wavs, f)) for f in os.listdir(wavs)) / SR
    os.makedirs(wavs, exist_ok=True)
    total = 0.0
    for i, d in enumerate(durations(CLIPS, rng)):
        pcm = speech_like(d, rng)
        with wave.open(os.path.join(wavs, f"LJ{i // 1000 + 1:03d}-{i % 1000 + 1:04d}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SR)
            w.writeframes(pcm.tobytes())
        total += len(pcm) / SR
    return root, total


def _frames(path):
    with wave.open(path) as w:
        return w.getnframes()


def read_wav(path):
    with wave.open(path) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768


def h5shard(corpus, out, extra):
    """Runs h5shard preprocess in a child; returns (seconds, peak RSS in MiB, its model line)."""
    deno = shlex.split(os.environ.get("DENO_CMD", "deno run --cached-only -A"))
    cmd = [*deno, os.path.join(ROOT, "cli.ts"), "preprocess", corpus, out, "--dataset", "ljspeech",
           "--semantic-model", EXPORT, "--execution-provider", PROVIDER, "--batch-size", BATCH,
           *extra, *shlex.split(os.environ.get("H5SHARD_ARGS", ""))]
    # A fresh Python whose only child is deno: its RUSAGE_CHILDREN peak is deno's.
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "sys.stderr.write(r.stderr + r.stdout); "
               "print(r.returncode, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    r = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True)
    sys.stderr.write(r.stderr)
    code, seconds, rss = r.stdout.split()[-3:]
    if int(code) != 0:
        sys.exit(f"error: h5shard preprocess exited {code}")
    model_line = next((l for l in r.stderr.splitlines() if l.startswith("semantic model ")), "?")
    return float(seconds), int(rss) / 1024, model_line


def mel_basis():
    from transformers.audio_utils import mel_filter_bank
    import torch
    fb = mel_filter_bank(num_frequency_bins=513, num_mel_filters=80, min_frequency=0.0, max_frequency=8000.0,
                         sampling_rate=SR, norm="slaney", mel_scale="slaney")
    return torch.from_numpy(fb.T.astype(np.float32))


def amphion_mel(wave_t, basis, device):
    """Amphion utils/mel.py extract_mel_features (center=False), as (1, T, 80)."""
    import torch
    hop, n_fft = 320, 1024
    pad = (n_fft - hop) // 2
    y = torch.nn.functional.pad(wave_t.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    spec = torch.stft(y, n_fft, hop_length=hop, win_length=n_fft, window=torch.hann_window(n_fft, device=device),
                      center=False, normalized=False, onesided=True, return_complex=True)
    spec = torch.sqrt(torch.view_as_real(spec).pow(2).sum(-1) + 1e-9)
    return torch.log(torch.clamp(torch.matmul(basis, spec), min=1e-5)).transpose(1, 2)


def original(corpus, out, model_dir, keep):
    """The original pipeline, per file; returns (seconds, {key: float32 hidden states} for `keep`)."""
    import torch
    from h5py_writer import HDF5Writer
    from transformers import SeamlessM4TFeatureExtractor, Wav2Vec2BertModel
    device = "cpu" if TINY else "cuda"
    torch.set_grad_enabled(False)
    fe = SeamlessM4TFeatureExtractor.from_pretrained(model_dir)
    model = Wav2Vec2BertModel.from_pretrained(model_dir, attn_implementation="eager").eval().to(device)
    basis = mel_basis().to(device)
    # Warm-up (CUDA context, kernels): the original pays it once per run, not per file.
    model(**fe(np.zeros(SR, np.float32), sampling_rate=SR, return_tensors="pt").to(device), output_hidden_states=True)
    wavs = os.path.join(corpus, "wavs")
    names = sorted(os.listdir(wavs))
    writer = HDF5Writer(out)
    kept = {}
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for name in names:
        w = read_wav(os.path.join(wavs, name))
        inputs = fe(w, sampling_rate=SR, return_tensors="pt").to(device)
        hidden = model(**inputs, output_hidden_states=True).hidden_states[SHAPE["layer"]][0].cpu().numpy()
        spec = amphion_mel(torch.from_numpy(w).to(device).unsqueeze(0), basis, device).cpu().numpy()
        key = name[:-4]
        writer.write(key, {"hidden_states": hidden, "mel_spectrogram": spec})
        if key in keep:
            kept[key] = hidden
    writer.close()
    return time.perf_counter() - start, kept


def read_h5shard(cache, keys):
    import h5py
    index = json.load(open(os.path.join(cache, "hdf5_index.json")))["sample_index"]
    out = {}
    for key in keys:
        entry = index[key]
        with h5py.File(os.path.join(cache, "features_%05d.h5" % entry["file_idx"]), "r") as f:
            out[key] = f[entry["group_name"]]["hidden_states"][()]
    return out


def main():
    global EXPORT
    work = os.path.abspath(sys.argv[1])
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(0)
    model_dir, EXPORT, export_bytes = build_export(work)
    corpus, audio = write_corpus(work, rng)
    log(f"{CLIPS} clips, {audio:.0f} s of audio; export {export_bytes / 1e6:.0f} MB")

    runs = os.path.join(work, "runs")
    subprocess.run(["rm", "-rf", runs], check=True)
    ours_s, rss_mib, first = h5shard(corpus, os.path.join(runs, "h5shard"), [])
    log(f"h5shard: {first}")
    log(f"h5shard preprocess: {ours_s:.1f} s, {audio / ours_s:.1f} audio s/s, peak RSS {rss_mib:.0f} MiB")

    names = sorted(os.listdir(os.path.join(corpus, "wavs")))
    keep = [n[:-4] for n in names[:CHECK_CLIPS]]
    orig_s, torch_hidden = original(corpus, os.path.join(runs, "original"), model_dir, set(keep))
    log(f"original ({'torch CPU' if TINY else 'torch CUDA'}, batch 1, fp32, all {SHAPE['layers']} layers): "
        f"{orig_s:.1f} s, {audio / orig_s:.1f} audio s/s")

    # float32 storage on the first clips, to compare with torch's float32 hidden states.
    sub = os.path.join(runs, "subset", "wavs")
    os.makedirs(sub)
    for n in names[:CHECK_CLIPS]:
        os.symlink(os.path.join(corpus, "wavs", n), os.path.join(sub, n))
    h5shard(os.path.dirname(sub), os.path.join(runs, "h5shard_f32"), ["--use-float16", "false"])
    ours = read_h5shard(os.path.join(runs, "h5shard_f32"), keep)
    worst = max(float(np.abs(ours[k] - torch_hidden[k]).max()) for k in keep)
    scale = max(float(np.abs(torch_hidden[k]).max()) for k in keep)
    shapes_equal = all(ours[k].shape == torch_hidden[k].shape for k in keep)

    result = {
        "tiny": TINY,
        "provider": PROVIDER,
        "first_line": first,
        "clips": CLIPS,
        "audio_seconds": round(audio, 1),
        "h5shard_seconds": round(ours_s, 2),
        "h5shard_audio_s_per_s": round(audio / ours_s, 1),
        "original_seconds": round(orig_s, 2),
        "original_audio_s_per_s": round(audio / orig_s, 1),
        "ratio": round(orig_s / ours_s, 2),
        "h5shard_peak_rss_mib": round(rss_mib),
        "export_mib": round(export_bytes / 2**20),
        "hidden_states_worst_abs_diff_float32": worst,
        "hidden_states_largest_value": scale,
        "compared_clips": len(keep),
        "shapes_equal": shapes_equal,
    }
    print(json.dumps(result, indent=2))
    log(f"ratio h5shard / original: {result['ratio']}x; worst |h5shard - torch| {worst:.3g} "
        f"(values up to {scale:.3g}) on {len(keep)} clips; peak RSS {rss_mib:.0f} MiB "
        f"(export {export_bytes / 2**20:.0f} MiB)")
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "gpu_check.json"), "w") as f:
            json.dump(result, f, indent=2)
    return 0 if shapes_equal else 1


if __name__ == "__main__":
    sys.exit(main())
