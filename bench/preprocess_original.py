"""Anchor for the preprocess (mel only) bench: the original pipeline's path on CPU. Per file:
load (soundfile, as torchaudio.load), resample to 16 kHz (the torch port of torchaudio's kernel),
Amphion's mel (torch.stft + librosa filterbank), stored by the original HDF5Writer (float16,
gzip 4). Single process, torch's default intra-op threads.

usage: preprocess_original.py DATA_ROOT PROCESSED_DIR
Prints one JSON line: samples, audio_seconds, seconds (after imports), and seconds per stage.
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


def main():
    data_root, processed_dir = sys.argv[1], sys.argv[2]
    torch.set_grad_enabled(False)
    start = time.perf_counter()
    wavs = os.path.join(data_root, "wavs")
    names = sorted(n for n in os.listdir(wavs) if n.endswith(".wav"))
    writer = HDF5Writer(processed_dir)
    stages = {"load": 0.0, "resample": 0.0, "mel": 0.0, "write": 0.0}
    audio = 0.0
    for name in names:
        t0 = time.perf_counter()
        wave, rate = load(os.path.join(wavs, name))
        t1 = time.perf_counter()
        wave = resample(wave, rate, 16000)
        t2 = time.perf_counter()
        spec = mel(wave, 16000, 320, 1024, 1024, 80, 0, 8000)
        t3 = time.perf_counter()
        writer.write(name[: -len(".wav")], {"mel_spectrogram": spec.numpy()})
        t4 = time.perf_counter()
        for k, a, b in (("load", t0, t1), ("resample", t1, t2), ("mel", t2, t3), ("write", t3, t4)):
            stages[k] += b - a
        audio += wave.shape[-1] / 16000
    writer.close()
    print(json.dumps({
        "samples": len(names),
        "audio_seconds": audio,
        "seconds": time.perf_counter() - start,
        **{f"{k}_seconds": v for k, v in stages.items()},
    }))


if __name__ == "__main__":
    main()
