"""Read an h5shard feature cache (``features_NNNNN.h5`` shards + ``hdf5_index.json``) from Python.

One file, needing only numpy and h5py: copy it next to your training code.

    from h5shard_reader import FeatureCache

    cache = FeatureCache("processed/ljspeech")
    sample = cache.get("LJ001-0001")                         # {"hidden_states": ..., "mel_spectrogram": ...}
    mel = cache.get(key, ["mel_spectrogram"], frames=slice(10, 60))["mel_spectrogram"]  # (1, 50, 80)

Safe with a PyTorch DataLoader: shard handles are opened lazily in the process that reads
(the pid is checked on every read) and are not pickled, so an instance made before the
DataLoader forks or spawns its workers opens its own handles in each worker. h5py handles must
not cross a fork: a child reading through its parent's handle can get wrong bytes.
"""

import json
import os
from collections import OrderedDict

import h5py
import numpy as np

INDEX_FILE = "hdf5_index.json"

__all__ = ["FeatureCache", "key_for_wav", "time_axis", "INDEX_FILE"]


def shard_file_name(file_idx):
    """``features_00001.h5`` for shard 1."""
    return "features_%05d.h5" % file_idx


def time_axis(shape):
    """The time axis of a stored array: 0 of (T, D), 1 of (1, T, D); None for other shapes
    (one-dimensional arrays such as phone ids or durations, scalars), which are read whole."""
    if len(shape) == 2:
        return 0
    if len(shape) == 3 and shape[0] == 1:
        return 1
    return None


def _split_path(path):
    parts = []
    for part in os.fspath(path).replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        else:
            parts.append(part)
    return parts


def _strip_extension(name):
    stem, dot, _ext = name.rpartition(".")
    return stem if dot and stem else name


def key_for_wav(path, dataset, data_root=None):
    """The cache key of a wav file, as h5shard's dataset plugins make it.

    - ``ljspeech``: the file's stem (``wavs/LJ001-0001.wav`` -> ``LJ001-0001``).
    - ``libritts``: the path relative to ``data_root`` without extension, ``/`` separators
      (``train-clean-100/103/1240/103_1240_000001_000000``); without ``data_root``, the last
      four components (split/speaker/chapter/utterance).
    """
    parts = _split_path(path)
    if not parts:
        raise ValueError("key_for_wav: empty path %r" % (path,))
    if dataset == "ljspeech":
        return _strip_extension(parts[-1])
    if dataset == "libritts":
        if data_root is not None:
            root = _split_path(data_root)
            absolute = os.fspath(path).replace("\\", "/").startswith("/")
            if absolute != os.fspath(data_root).replace("\\", "/").startswith("/"):
                parts = _split_path(os.path.abspath(path))
                root = _split_path(os.path.abspath(data_root))
            if parts[: len(root)] != root or len(parts) == len(root):
                raise ValueError("path %r is not below data root %r" % (path, data_root))
            rel = parts[len(root) :]
        else:
            if len(parts) < 4:
                raise ValueError(
                    "LibriTTS path %r: expected split/speaker/chapter/utterance, "
                    "or pass data_root" % (path,)
                )
            rel = parts[-4:]
        return "/".join(rel[:-1] + [_strip_extension(rel[-1])])
    raise ValueError("key_for_wav: dataset must be 'ljspeech' or 'libritts', got %r" % (dataset,))


class FeatureCache:
    """Random access by key to a processed_dir, with an LRU of open shard files.

    ``len(cache)``, ``key in cache``, ``cache.keys()`` (index order), ``cache.get(key)``.
    Use as a context manager, or call ``close()``, to close the shards.
    """

    key_for_wav = staticmethod(key_for_wav)

    def __init__(self, processed_dir, max_open_files=64):
        if not isinstance(max_open_files, int) or max_open_files < 1:
            raise ValueError("max_open_files must be an integer >= 1, got %r" % (max_open_files,))
        self.processed_dir = os.fspath(processed_dir)
        self.max_open_files = max_open_files
        path = os.path.join(self.processed_dir, INDEX_FILE)
        try:
            with open(path, encoding="utf-8") as f:
                index = json.load(f)
        except FileNotFoundError:
            raise FileNotFoundError("%s: no %s, not a cache directory" % (self.processed_dir, INDEX_FILE))
        if not isinstance(index, dict) or not isinstance(index.get("sample_index"), dict):
            raise ValueError("%s: no sample_index object" % path)
        self._index = index["sample_index"]
        self._files = OrderedDict()
        self._pid = os.getpid()

    # Handles never travel: a pickled cache (DataLoader workers under spawn or forkserver)
    # opens its own shards on first use.
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_files"] = OrderedDict()
        state["_pid"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __len__(self):
        return len(self._index)

    def __contains__(self, key):
        return key in self._index

    def keys(self):
        """Every key, in index order."""
        return list(self._index)

    @property
    def open_files(self):
        """Shard files this process has open now."""
        return len(self._files) if self._pid == os.getpid() else 0

    def _shard(self, file_idx):
        pid = os.getpid()
        if self._pid != pid:
            # Made in (or copied from) another process: its handles are not ours to use.
            self._files = OrderedDict()
            self._pid = pid
        f = self._files.get(file_idx)
        if f is not None:
            self._files.move_to_end(file_idx)
            return f
        while len(self._files) >= self.max_open_files:
            self._files.popitem(last=False)[1].close()
        f = h5py.File(os.path.join(self.processed_dir, shard_file_name(file_idx)), "r")
        self._files[file_idx] = f
        return f

    def get(self, key, datasets=None, frames=None):
        """The sample's arrays as ``{name: np.ndarray}`` (float16 stays float16).

        ``datasets``: names to read (default: all of the sample). ``frames``: a slice (or a
        ``(start, stop)`` pair) of the time axis (see ``time_axis``), clamped as h5py clamps;
        arrays without a time axis come back whole. Only the chunks a frame range overlaps are
        decompressed.
        """
        entry = self._index.get(key)
        if entry is None:
            raise KeyError("%r not in %s of %s" % (key, INDEX_FILE, self.processed_dir))
        if isinstance(frames, tuple):
            frames = slice(*frames)
        if frames is not None and not isinstance(frames, slice):
            raise TypeError("frames must be a slice or a (start, stop) pair, got %r" % (frames,))
        shard = shard_file_name(entry["file_idx"])
        group = self._shard(entry["file_idx"]).get(entry["group_name"])
        if not isinstance(group, h5py.Group):
            raise KeyError("%r: no group %r in %s" % (key, entry["group_name"], shard))
        names = list(datasets) if datasets is not None else [
            n for n, obj in group.items() if isinstance(obj, h5py.Dataset)
        ]
        out = {}
        for name in names:
            ds = group.get(name)
            if not isinstance(ds, h5py.Dataset):
                raise KeyError("%r: no dataset %r in %s" % (key, name, shard))
            axis = time_axis(ds.shape) if frames is not None else None
            if axis is None:
                out[name] = np.asarray(ds[()])
            else:
                index = [slice(None)] * len(ds.shape)
                index[axis] = frames
                out[name] = ds[tuple(index)]
        return out

    def close(self):
        """Closes this process's open shards; the cache can still be read (it reopens them)."""
        if self._pid == os.getpid():
            for f in self._files.values():
                f.close()
        self._files = OrderedDict()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "FeatureCache(%r, %d samples)" % (self.processed_dir, len(self))
