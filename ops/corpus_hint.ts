/**
 * {@linkcode corpusHint}: what to give instead, when the folder given as a corpus's data root
 * finds no audio: the `wavs/` folder itself instead of the corpus root, one split of LibriTTS,
 * an h5shard cache or a legacy NPZ cache.
 *
 * @module
 */
import type { DatasetPlugin } from "../plugins/plugin.ts";

const CACHE_FILES = ["hdf5_index.json", "features_00001.h5"];

function names(dir: string, limit = 2000): string[] {
  const found: string[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      found.push(entry.name);
      if (found.length >= limit) break;
    }
  } catch {
    // Unreadable or missing: no hint from its contents.
  }
  return found;
}

/**
 * A sentence on what `dataRoot` is ("this is the folder of WAV files itself, ...") and what
 * to give instead; else the layout the plugin expects (`the ljspeech plugin expects ...`), or
 * `undefined` when the plugin describes none.
 *
 * @example
 * ```ts
 * import { corpusHint } from "./corpus_hint.ts";
 * import { ljspeech } from "../plugins/ljspeech.ts";
 * const hint = corpusHint("data/LJSpeech-1.1/wavs", ljspeech) ?? "";
 * if (!hint.includes("data/LJSpeech-1.1")) throw new Error(hint);
 * ```
 */
export function corpusHint(dataRoot: string, plugin: DatasetPlugin): string | undefined {
  const trimmed = dataRoot.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  const base = trimmed.slice(slash + 1);
  const parent = slash < 0 ? "." : slash === 0 ? "/" : trimmed.slice(0, slash);
  const layout = plugin.description ? ` (expected: ${plugin.description})` : "";
  const here = names(dataRoot);
  if (CACHE_FILES.some((f) => here.includes(f))) {
    return `this is an h5shard cache (it holds ${
      CACHE_FILES.filter((f) => here.includes(f)).join(", ")
    }), not a corpus: give the corpus root as <data_root> and the cache as <processed_dir>${layout}`;
  }
  if (here.some((n) => n.endsWith(".npz"))) {
    return `this holds .npz files: a legacy NPZ cache is converted with ` +
      `'h5shard migrate ${dataRoot} <processed_dir> --dataset ${plugin.name}', not preprocess`;
  }
  if (base === "wavs" || (plugin.name === "ljspeech" && here.some((n) => /\.wav$/i.test(n)))) {
    return `this is the folder of WAV files itself, not the corpus root: give the folder that ` +
      `holds it, ${base === "wavs" ? parent : "the folder above wavs/"}${layout}`;
  }
  if (plugin.name === "libritts" && /^(train|dev|test)-/.test(base)) {
    return `this looks like one LibriTTS split: give the LibriTTS root that holds the ` +
      `splits, ${parent}${layout}`;
  }
  return plugin.description ? `the ${plugin.name} plugin expects ${plugin.description}` : undefined;
}
