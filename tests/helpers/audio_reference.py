"""The original pipeline's audio front end, in the reference libraries, for h5shard's tests and
benchmark: load as torchaudio.load would (soundfile, float32, channels averaged), resample
with a torch port of torchaudio.functional.resample's default kernel (torchaudio itself does not
install here), and the mel spectrogram exactly as Amphion's utils/mel.py computes it.

    python audio_reference.py OUT_DIR SR HOP WIN N_FFT N_MEL FMIN FMAX FILE...

writes OUT_DIR/<i>.wave.npy (the 16 kHz waveform, float32) and OUT_DIR/<i>.mel.npy (1, T, n_mel)
for the i-th FILE, and prints the seconds spent per stage as JSON.
"""

import json
import math
import sys
import time

import librosa
import numpy as np
import soundfile
import torch


def load(path):
    """(1, n) float32 mono at the file's rate: soundfile scales as torchaudio.load does."""
    data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    wave = torch.from_numpy(data.T.copy())
    return wave.mean(dim=0, keepdim=True), rate


def resample(wave, orig, new, width_zc=6, rolloff=0.99):
    """torchaudio.functional.resample with sinc_interp_hann, in float32 like the original."""
    if orig == new:
        return wave
    g = math.gcd(orig, new)
    orig, new = orig // g, new // g
    base = min(orig, new) * rolloff
    width = math.ceil(width_zc * orig / base)
    dtype = wave.dtype
    idx = torch.arange(-width, width + orig, dtype=dtype)[None, None] / orig
    t = torch.arange(0, -new, -1, dtype=dtype)[:, None, None] / new + idx
    t *= base
    t = t.clamp_(-width_zc, width_zc)
    window = torch.cos(t * math.pi / width_zc / 2) ** 2
    t *= math.pi
    kernel = torch.where(t == 0, torch.tensor(1.0).to(t), t.sin() / t)
    kernel *= window * (base / orig)
    n = wave.shape[-1]
    padded = torch.nn.functional.pad(wave, (width, width + orig))
    out = torch.nn.functional.conv1d(padded[:, None], kernel, stride=orig)
    out = out.transpose(1, 2).reshape(wave.shape[0], -1)
    return out[..., : int(torch.ceil(torch.as_tensor(new * n / orig)))]


_basis = {}


def mel(wave, sr, hop, win, n_fft, n_mel, fmin, fmax):
    """Amphion utils/mel.py extract_mel_features (center=False), as (1, T, n_mel)."""
    key = (sr, n_fft, n_mel, fmin, fmax)
    if key not in _basis:
        _basis[key] = torch.from_numpy(
            librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mel, fmin=fmin, fmax=fmax)
        ).float()
    pad = int((n_fft - hop) / 2)
    y = torch.nn.functional.pad(wave.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    spec = torch.stft(
        y, n_fft, hop_length=hop, win_length=win, window=torch.hann_window(win),
        center=False, pad_mode="reflect", normalized=False, onesided=True, return_complex=True,
    )
    spec = torch.view_as_real(spec)
    spec = torch.sqrt(spec.pow(2).sum(-1) + 1e-9)
    spec = torch.matmul(_basis[key], spec)
    spec = torch.log(torch.clamp(spec, min=1e-5))
    return spec.transpose(1, 2)


def main():
    out_dir = sys.argv[1]
    sr, hop, win, n_fft, n_mel = (int(v) for v in sys.argv[2:7])
    fmin, fmax = float(sys.argv[7]), float(sys.argv[8])
    seconds = {"load": 0.0, "resample": 0.0, "mel": 0.0, "audio": 0.0}
    for i, path in enumerate(sys.argv[9:]):
        t0 = time.perf_counter()
        wave, rate = load(path)
        t1 = time.perf_counter()
        wave = resample(wave, rate, sr)
        t2 = time.perf_counter()
        spec = mel(wave, sr, hop, win, n_fft, n_mel, fmin, fmax)
        t3 = time.perf_counter()
        seconds["load"] += t1 - t0
        seconds["resample"] += t2 - t1
        seconds["mel"] += t3 - t2
        seconds["audio"] += wave.shape[-1] / sr
        if out_dir != "-":
            np.save(f"{out_dir}/{i}.wave.npy", wave[0].numpy())
            np.save(f"{out_dir}/{i}.mel.npy", spec.numpy())
    print(json.dumps(seconds))


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
