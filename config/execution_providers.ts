/**
 * The words `semantic_model.execution_provider` takes. They sit here, below the extractors, so
 * the settings schema needs nothing from the code that resolves a provider
 * (`extractors/execution_provider.ts`, which re-exports them).
 *
 * @example
 * ```ts
 * const cpu: ExecutionProviderChoice = "cpu";
 * if (!EXECUTION_PROVIDERS.includes(cpu)) throw new Error("cpu is a provider");
 * ```
 *
 * @module
 */

/** What a run may ask for. */
export const EXECUTION_PROVIDERS = ["auto", "cpu", "webgpu", "cuda"] as const;
/** `semantic_model.execution_provider`. */
export type ExecutionProviderChoice = typeof EXECUTION_PROVIDERS[number];
/** A provider that runs the model (what `auto` resolves to). */
export type ExecutionProvider = Exclude<ExecutionProviderChoice, "auto">;
