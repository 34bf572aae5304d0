/**
 * {@linkcode loadExtractor}: an extractor from its module URL. Kept apart from the registry
 * (which resolves names and paths) so feature workers import nothing else: no npm packages.
 *
 * @module
 */
import { ConfigError, errorMessage, FormatError } from "../errors.ts";
import type { Extractor, ExtractorFactory } from "./extractor.ts";

/**
 * Imports `module`, calls its default export (an {@linkcode ExtractorFactory}) with `options`.
 * A module that cannot be loaded, has no factory, or whose factory fails throws a
 * {@linkcode FormatError} naming `what` (the name or path the user gave); options its parser
 * refuses throw its {@linkcode ConfigError}, naming the config field.
 *
 * @example
 * ```ts
 * import { loadExtractor } from "./load_extractor.ts";
 *
 * const mel = await loadExtractor(new URL("./mel.ts", import.meta.url), {}, "mel");
 * if (mel.name !== "mel") throw new Error();
 * ```
 */
export async function loadExtractor(
  module: URL,
  options: Record<string, unknown>,
  what = module.href,
): Promise<Extractor> {
  let factory: unknown;
  try {
    factory = (await import(module.href)).default;
  } catch (error) {
    throw new FormatError(what, `cannot load extractor module: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  if (typeof factory !== "function") {
    throw new FormatError(
      what,
      "exports no extractor factory (expected a default export: (options) => Extractor)",
    );
  }
  try {
    return await (factory as ExtractorFactory)(options);
  } catch (error) {
    // Bad options (a factory's typed options parser) name their config field: said as they are.
    if (error instanceof ConfigError) throw error;
    throw new FormatError(what, `extractor factory failed: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
