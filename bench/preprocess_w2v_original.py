"""Anchor for the w2v-BERT preprocess bench: the original pipeline on CPU, per utterance. Per
file: load (soundfile, as torchaudio.load), resample to 16 kHz (the torch port of torchaudio's
kernel), SeamlessM4TFeatureExtractor, Wav2Vec2BertModel (eager, every layer, as
output_hidden_states runs it) -> hidden_states[LAYER], Amphion's mel, stored by the original
HDF5Writer (float16, gzip 4). Single process, torch's default intra-op threads.

usage: preprocess_w2v_original.py DATA_ROOT PROCESSED_DIR MODEL_DIR LAYER
Prints one JSON line: samples, audio_seconds, seconds (after imports and model load), stages.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "helpers"))
sys.path.insert(0, os.path.dirname(__file__))

import torch  # noqa: E402
from audio_reference import load, mel, resample  # noqa: E402
from h5py_writer import HDF5Writer  # noqa: E402
from transformers import SeamlessM4TFeatureExtractor, Wav2Vec2BertModel  # noqa: E402


def main():
    data_root, processed_dir, model_dir, layer = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    torch.set_grad_enabled(False)
    t_load = time.perf_counter()
    fe = SeamlessM4TFeatureExtractor.from_pretrained(model_dir)
    model = Wav2Vec2BertModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    model_load = time.perf_counter() - t_load
    start = time.perf_counter()
    wavs = os.path.join(data_root, "wavs")
    names = sorted(n for n in os.listdir(wavs) if n.endswith(".wav"))
    writer = HDF5Writer(processed_dir)
    stages = {"load": 0.0, "resample": 0.0, "fbank": 0.0, "model": 0.0, "mel": 0.0, "write": 0.0}
    audio = 0.0
    for name in names:
        t = [time.perf_counter()]
        wave, rate = load(os.path.join(wavs, name))
        t.append(time.perf_counter())
        wave = resample(wave, rate, 16000)
        t.append(time.perf_counter())
        inputs = fe(wave.reshape(-1).numpy(), sampling_rate=16000, return_tensors="pt")
        t.append(time.perf_counter())
        out = model(**inputs, output_hidden_states=True)
        hidden = out.hidden_states[layer][0].numpy()
        t.append(time.perf_counter())
        spec = mel(wave, 16000, 320, 1024, 1024, 80, 0, 8000)
        t.append(time.perf_counter())
        writer.write(name[: -len(".wav")], {"hidden_states": hidden, "mel_spectrogram": spec.numpy()})
        t.append(time.perf_counter())
        for i, k in enumerate(stages):
            stages[k] += t[i + 1] - t[i]
        audio += wave.shape[-1] / 16000
    writer.close()
    print(json.dumps({
        "samples": len(names),
        "audio_seconds": audio,
        "seconds": time.perf_counter() - start,
        "model_load_seconds": model_load,
        **{f"{k}_seconds": v for k, v in stages.items()},
    }))


if __name__ == "__main__":
    main()
