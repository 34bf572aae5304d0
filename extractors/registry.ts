/**
 * The extractor registry: a `Map` from name to a lazily imported module whose default export
 * is an {@linkcode ExtractorFactory}. Built in: `mel`. A module path (or `file:` URL) loads a
 * user's own extractor the same way. Since workers rebuild extractors from a name or a URL, an
 * entry is always a module, never a function.
 *
 * @module
 */
import { pathToFileURL } from "../deps.ts";
import { ConfigError } from "../errors.ts";
import type { Extractor } from "./extractor.ts";
import { loadExtractor } from "./load_extractor.ts";

/** What builds one extractor: a registry name or module path, and its JSON options. */
export interface ExtractorSpec {
  /** `mel`, another registered name, or a module path / `file:` URL of a user's extractor. */
  name: string;
  /** Plain JSON options handed to the factory (they may cross a worker boundary). */
  options?: Record<string, unknown>;
}

const registry = new Map<string, URL>([
  ["mel", new URL("./mel.ts", import.meta.url)],
  ["w2v-bert", new URL("./w2v_bert.ts", import.meta.url)],
]);

/**
 * Registers a module (its default export an {@linkcode ExtractorFactory}) under `name`.
 * Another module already under that name throws a `RangeError`.
 */
export function registerExtractor(name: string, module: URL): void {
  const existing = registry.get(name);
  if (existing && existing.href !== module.href) {
    throw new RangeError(`extractor ${JSON.stringify(name)} is already registered`);
  }
  registry.set(name, module);
}

/** Registered extractor names, sorted. */
export function listExtractors(): string[] {
  return [...registry.keys()].sort();
}

function looksLikePath(spec: string): boolean {
  return /[\\/]/.test(spec) || spec.startsWith("file:") || /\.[cm]?[jt]sx?$/.test(spec);
}

/**
 * The module URL for a registry name or a module path (relative to the working directory). An
 * unknown name throws a {@linkcode ConfigError} listing the known ones.
 */
export function extractorModule(nameOrPath: string): URL {
  const registered = registry.get(nameOrPath);
  if (registered) return registered;
  if (!looksLikePath(nameOrPath)) {
    throw new ConfigError(
      "extractor",
      nameOrPath,
      `one of ${listExtractors().map((n) => JSON.stringify(n)).join(", ")} or a module path ` +
        `such as ./my_extractor.ts`,
    );
  }
  return nameOrPath.startsWith("file:") ? new URL(nameOrPath) : pathToFileURL(nameOrPath);
}

/**
 * Builds the extractor `spec` names (see {@linkcode loadExtractor}).
 *
 * @example
 * ```ts
 * import { createExtractor } from "./registry.ts";
 *
 * const mel = await createExtractor({ name: "mel", options: { n_mel: 80 } });
 * if (mel.outputs[0] !== "mel_spectrogram" || mel.sampleRate !== 16000) throw new Error();
 * ```
 */
export function createExtractor(spec: ExtractorSpec): Promise<Extractor> {
  return loadExtractor(extractorModule(spec.name), spec.options ?? {}, spec.name);
}
