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

The index is checked when the cache is opened (every ``file_idx`` an integer >= 1, every
``group_name`` equal to its key), and every error about the cache's contents (a missing or
damaged index, an unknown key, a missing, truncated or damaged shard, group or dataset) is one
class, ``CacheError`` (a ``KeyError`` and a ``ValueError``), whose message names the key and
the shard.
"""

import json
import os
from collections import OrderedDict

import h5py
import numpy as np

INDEX_FILE = "hdf5_index.json"

__all__ = ["CacheError", "FeatureCache", "key_for_wav", "time_axis", "INDEX_FILE"]

MAX_SHARD = 99999


class CacheError(KeyError, ValueError):
    """Every error about a cache's contents: a missing or damaged index, an unknown key, a
    missing, truncated or damaged shard, group or dataset. A ``KeyError`` (so ``except
    KeyError`` around ``get`` keeps working) and a ``ValueError``. ``key``, ``shard`` and
    ``path`` say where (None where they do not apply); the message names them."""

    def __init__(self, message, key=None, shard=None, path=None):
        super().__init__(message)
        self.message = message
        self.key = key
        self.shard = shard
        self.path = path

    def __str__(self):
        return self.message


def shard_file_name(file_idx):
    """``features_00001.h5`` for shard 1."""
    return "features_%05d.h5" % file_idx


def _valid_file_idx(value):
    # bool is an int subclass; 1.0 and "1" are not shard numbers either.
    return type(value) is int and 1 <= value <= MAX_SHARD


def _check_index(index, path):
    """The index's shape and every entry, as h5shard's own parser checks them."""
    if not isinstance(index, dict):
        raise CacheError("%s: expected a JSON object at the top level" % path, path=path)
    sample_index = index.get("sample_index")
    if not isinstance(sample_index, dict):
        raise CacheError("%s: sample_index: expected an object" % path, path=path)
    for key, entry in sample_index.items():
        where = "%s: sample_index[%s]" % (path, json.dumps(key))
        if not isinstance(entry, dict):
            raise CacheError(
                '%s: expected {"file_idx": n >= 1, "group_name": string}, got %s'
                % (where, json.dumps(entry)),
                key=key,
                path=path,
            )
        file_idx = entry.get("file_idx")
        if not _valid_file_idx(file_idx):
            raise CacheError(
                "%s: file_idx: expected an integer 1..%d, got %s"
                % (where, MAX_SHARD, json.dumps(file_idx)),
                key=key,
                path=path,
            )
        group = entry.get("group_name")
        if not isinstance(group, str):
            raise CacheError(
                "%s: group_name: expected a string, got %s" % (where, json.dumps(group)),
                key=key,
                shard=shard_file_name(file_idx),
                path=path,
            )
        if group != key:
            raise CacheError(
                "%s: group_name %s is not the key (damaged or tampered index: the entry would "
                "read another group)" % (where, json.dumps(group)),
                key=key,
                shard=shard_file_name(file_idx),
                path=path,
            )
    return sample_index


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
            with open(path, "rb") as f:
                text = f.read()
        except FileNotFoundError:
            raise CacheError(
                "%s: no %s, not a cache directory" % (self.processed_dir, INDEX_FILE), path=path
            ) from None
        except OSError as e:
            raise CacheError("%s: cannot read: %s" % (path, e), path=path) from e
        try:
            index = json.loads(text)
        except (ValueError, RecursionError) as e:
            # RecursionError: nesting deeper than Python's parser goes is damage too.
            reason = "%s: %s" % (type(e).__name__, str(e)[:200])
            raise CacheError("%s: not valid JSON (%s)" % (path, reason), path=path) from None
        self._index = _check_index(index, path)
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

    def _shard(self, file_idx, key=None):
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
        name = shard_file_name(file_idx)
        path = os.path.join(self.processed_dir, name)
        try:
            f = h5py.File(path, "r")
        except Exception as e:  # h5py raises OSError, and others on garbage
            raise CacheError(
                "%r: cannot open shard %s: %s" % (key, path, e),
                key=key,
                shard=name,
                path=path,
            ) from e
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
            raise CacheError("%r not in %s of %s" % (key, INDEX_FILE, self.processed_dir), key=key)
        if isinstance(frames, tuple):
            frames = slice(*frames)
        if frames is not None and not isinstance(frames, slice):
            raise TypeError("frames must be a slice or a (start, stop) pair, got %r" % (frames,))
        shard = shard_file_name(entry["file_idx"])
        where = "%s of %s" % (shard, self.processed_dir)
        f = self._shard(entry["file_idx"], key)
        try:
            group = f.get(entry["group_name"])
            if not isinstance(group, h5py.Group):
                message = "%r: no group %r in %s" % (key, entry["group_name"], where)
                raise CacheError(message, key=key, shard=shard)
            names = list(datasets) if datasets is not None else [
                n for n, obj in group.items() if isinstance(obj, h5py.Dataset)
            ]
            out = {}
            for name in names:
                ds = group.get(name)
                if not isinstance(ds, h5py.Dataset):
                    raise CacheError(
                        "%r: no dataset %r in %s" % (key, name, where), key=key, shard=shard
                    )
                axis = time_axis(ds.shape) if frames is not None else None
                if axis is None:
                    out[name] = np.asarray(ds[()])
                else:
                    index = [slice(None)] * len(ds.shape)
                    index[axis] = frames
                    out[name] = ds[tuple(index)]
            return out
        except CacheError:
            raise
        except Exception as e:  # h5py: OSError (a damaged chunk, truncated file), KeyError, ...
            raise CacheError(
                "%r: cannot read from %s: %s" % (key, where, e), key=key, shard=shard
            ) from e

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
