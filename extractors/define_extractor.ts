/**
 * {@linkcode defineExtractor}: an extractor checked before it joins a pipeline.
 *
 * @module
 */
import type { Extractor } from "./extractor.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * Checks an extractor (name, positive integer `sampleRate`, non-empty `outputs`, an `extract`
 * function) and returns it; for a user's own extractor module, whose default export is
 * a factory returning `defineExtractor({...})`. Bad fields throw a `TypeError` or `RangeError`
 * quoting the value.
 *
 * @example
 * ```ts
 * import { defineExtractor } from "./define_extractor.ts";
 *
 * const energy = defineExtractor({
 *   name: "energy",
 *   sampleRate: 16000,
 *   outputs: ["energy"],
 *   extract({ audio }) {
 *     const frames = Math.floor(audio.length / 320);
 *     const data = new Float32Array(frames);
 *     for (let t = 0; t < frames; t++) {
 *       for (let i = 0; i < 320; i++) data[t] += audio[t * 320 + i] ** 2;
 *     }
 *     return { energy: { dtype: "float32", shape: [frames], data } };
 *   },
 * });
 * const out = await energy.extract({ key: "k", audio: new Float32Array(640).fill(0.5) });
 * if (out.energy.data[1] !== 80) throw new Error(String(out.energy.data[1]));
 * ```
 */
export function defineExtractor(extractor: Extractor): Extractor {
  if (typeof extractor !== "object" || extractor === null) {
    throw new TypeError(`extractor: expected an object, got ${String(extractor)}`);
  }
  if (typeof extractor.name !== "string" || !NAME.test(extractor.name)) {
    throw new RangeError(
      `extractor name: expected letters, digits, "_" and "-", got ${
        JSON.stringify(extractor.name)
      }`,
    );
  }
  const what = `extractor ${JSON.stringify(extractor.name)}`;
  if (!Number.isSafeInteger(extractor.sampleRate) || extractor.sampleRate < 1) {
    throw new RangeError(
      `${what}: sampleRate must be a positive integer, got ${JSON.stringify(extractor.sampleRate)}`,
    );
  }
  if (
    !Array.isArray(extractor.outputs) || extractor.outputs.length === 0 ||
    !extractor.outputs.every((o) => typeof o === "string" && o !== "")
  ) {
    throw new TypeError(
      `${what}: outputs must be a non-empty list of tensor names, got ${
        JSON.stringify(extractor.outputs)
      }`,
    );
  }
  if (typeof extractor.extract !== "function") {
    throw new TypeError(`${what}: extract must be a function`);
  }
  if (extractor.close !== undefined && typeof extractor.close !== "function") {
    throw new TypeError(`${what}: close must be a function when given`);
  }
  return extractor;
}
