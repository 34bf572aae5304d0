/**
 * Dataset plugins: the API, {@linkcode definePlugin}, the built-ins and the registry.
 *
 * @module
 */
export type { DatasetPlugin, PluginDefinition, SampleRef } from "./plugin.ts";
export { definePlugin, discoverNpzFiles } from "./define_plugin.ts";
export { compareUtf8, type WalkEntry, walkFiles, type WalkOptions } from "./walk.ts";
export { joinPath, normalizePath, relativeKey, stripExtension } from "./path_key.ts";
export { ljspeech } from "./ljspeech.ts";
export { createLibriTTS, libritts, LIBRITTS_SPLITS, type LibriTTSOptions } from "./libritts.ts";
export { getPlugin, listPlugins, registeredPlugin, registerPlugin } from "./registry.ts";
