#!/usr/bin/env bash
# Rebuilds the demo's committed assets: a small LJSpeech-layout corpus spoken by espeak-ng
# (22.05 kHz PCM16, as LJSpeech) and a tiny random-weight w2v-BERT export (3 layers x 32,
# layer 2). Needs espeak-ng and the Python venv (torch, transformers, onnx, onnxruntime).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${H5SHARD_PYTHON:-$HOME/.cache/h5shard/venv/bin/python}
corpus=examples/ljspeech_mini
mkdir -p "$corpus/wavs"
sentences=(
  "A cache of speech features, packed into shards."
  "Each utterance becomes one group in an HDF5 file."
  "Training code finds it by key through a small index."
  "The semantic model here has random weights."
  "Mel spectrograms and hidden states stay aligned."
)
: >"$corpus/metadata.csv"
for i in "${!sentences[@]}"; do
  key=$(printf "LJ001-%04d" $((i + 1)))
  espeak-ng -s 190 -w "$corpus/wavs/$key.wav" "${sentences[$i]}"
  printf '%s|%s|%s\n' "$key" "${sentences[$i]}" "${sentences[$i]}" >>"$corpus/metadata.csv"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && "$python" "$OLDPWD/scripts/make_tiny_w2v_bert.py" w2v_bert_tiny_random --seed 0)
(cd "$tmp" && "$python" "$OLDPWD/scripts/export_w2v_bert.py" w2v_bert_tiny_random \
  "$OLDPWD/examples/w2v_bert_tiny" --layer 2)
du -ch "$corpus"/wavs/*.wav examples/w2v_bert_tiny/* | tail -1
