/**
 * Which ONNX Runtime execution provider runs the semantic model: {@linkcode resolveExecutionProvider}
 * turns `auto|cpu|webgpu|cuda` into a provider that works on this machine, or says what is missing.
 *
 * WebGPU is the provider inside onnxruntime-node's own Linux x64 library (Dawn on Vulkan): it needs
 * no CUDA toolkit, only the GPU driver's Vulkan ICD and the Vulkan loader (`libvulkan.so.1`). The
 * probe first looks for the loader (so a machine without one never even loads Dawn, which would
 * print a warning), then opens a session with the WebGPU provider on a tiny Identity model built
 * here: that fails at once ("No supported adapters") where no GPU adapter is found.
 *
 * @module
 */
import { ConfigError, errorMessage, H5ShardError } from "../errors.ts";
import {
  EXECUTION_PROVIDERS,
  type ExecutionProvider,
  type ExecutionProviderChoice,
} from "../config/execution_providers.ts";

export { EXECUTION_PROVIDERS, type ExecutionProvider, type ExecutionProviderChoice };

/** The provider asked for cannot run here; `missing` says what would make it work. */
export class ExecutionProviderError extends H5ShardError {
  constructor(
    readonly provider: ExecutionProvider,
    readonly missing: string,
    options?: ErrorOptions,
  ) {
    super(`--execution-provider ${provider}: not available on this machine: ${missing}`, options);
  }
}

/** The outcome of {@linkcode resolveExecutionProvider}. */
export interface ResolvedProvider {
  /** The provider that will run the model. */
  provider: ExecutionProvider;
  /** Why: e.g. `WebGPU adapter found`, `no WebGPU adapter (libvulkan.so.1 not found)`. */
  reason: string;
}

const VULKAN_LOADER = "libvulkan.so.1";
const WEBGPU_NEEDS = "a GPU with its driver's Vulkan ICD and the Vulkan loader " +
  "(Debian/Ubuntu: apt-get install libvulkan1; no CUDA needed)";
const CUDA_NEEDS = "onnxruntime-node's CUDA build (its libonnxruntime_providers_cuda.so, which " +
  "the npm package does not bundle) and a CUDA runtime";

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n > 127; n >>>= 7) out.push((n & 127) | 128);
  out.push(n);
  return out;
}

/** A protobuf field: varint (`value` a number) or length-delimited (bytes or text). */
function field(no: number, value: number | number[] | string): number[] {
  if (typeof value === "number") return [...varint(no << 3), ...varint(value)];
  const bytes = typeof value === "string" ? [...new TextEncoder().encode(value)] : value;
  return [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];
}

/**
 * The smallest useful ONNX model: `y = Identity(x)`, x and y float32 of shape [1] (ModelProto:
 * ir_version 8, opset 17; GraphProto: one node, one input, one output).
 *
 * @example
 * ```ts
 * import { identityModel } from "./execution_provider.ts";
 *
 * const model = identityModel();
 * if (model[0] !== 0x08 || model.length > 80) throw new Error(String(model.length));
 * ```
 */
export function identityModel(): Uint8Array {
  const floatOfShape1 = field(1, [...field(1, 1), ...field(2, field(1, field(1, 1)))]);
  const valueInfo = (name: string) => [...field(1, name), ...field(2, floatOfShape1)];
  const node = [...field(1, "x"), ...field(2, "y"), ...field(4, "Identity")];
  const graph = [...field(1, node), ...field(11, valueInfo("x")), ...field(12, valueInfo("y"))];
  return new Uint8Array([...field(1, 8), ...field(8, field(2, 17)), ...field(7, graph)]);
}

/** Whether the Vulkan loader can be opened; the reason when not. */
function vulkanLoader(): string | undefined {
  try {
    Deno.dlopen(VULKAN_LOADER, {}).close();
    return undefined;
  } catch {
    return `the Vulkan loader ${VULKAN_LOADER} is not installed`;
  }
}

/** Opens (and releases) a session of `provider` on the Identity model; the error text if it fails. */
async function trySession(provider: "webgpu" | "cuda"): Promise<string | undefined> {
  // Imported here: the config schema reads this module's names, and must not pull in deps.ts.
  const { loadOnnxRuntime } = await import("../deps.ts");
  const ort = await loadOnnxRuntime();
  try {
    const session = await ort.InferenceSession.create(identityModel(), {
      executionProviders: [provider],
      logSeverityLevel: 4,
    });
    await session.release();
    return undefined;
  } catch (e) {
    return errorMessage(e).split("\n")[0].replace(/^.*?(Failed to get a WebGPU adapter)/, "$1");
  }
}

/**
 * Probes for a WebGPU adapter: the Vulkan loader first, then a WebGPU session on
 * {@linkcode identityModel}. `undefined` when one is found, else why not.
 */
export async function webgpuProblem(): Promise<string | undefined> {
  return vulkanLoader() ?? await trySession("webgpu");
}

/**
 * The provider for `choice`: `auto` takes WebGPU when an adapter is found, else the CPU; `webgpu`
 * or `cuda` that cannot run here throw an {@linkcode ExecutionProviderError} naming what is
 * missing. Needs `--allow-ffi` for anything but `cpu`.
 *
 * @example
 * ```ts
 * import { resolveExecutionProvider } from "./execution_provider.ts";
 *
 * const { provider, reason } = await resolveExecutionProvider("cpu");
 * if (provider !== "cpu" || reason !== "asked for") throw new Error(`${provider} (${reason})`);
 * ```
 */
export async function resolveExecutionProvider(
  choice: ExecutionProviderChoice,
): Promise<ResolvedProvider> {
  switch (choice) {
    case "cpu":
      return { provider: "cpu", reason: "asked for" };
    case "auto": {
      const problem = await webgpuProblem();
      return problem === undefined
        ? { provider: "webgpu", reason: "WebGPU adapter found" }
        : { provider: "cpu", reason: `no WebGPU adapter (${problem})` };
    }
    case "webgpu": {
      const problem = await webgpuProblem();
      if (problem === undefined) return { provider: "webgpu", reason: "asked for" };
      throw new ExecutionProviderError("webgpu", `${WEBGPU_NEEDS}; ${problem}`);
    }
    case "cuda": {
      const problem = await trySession("cuda");
      if (problem === undefined) return { provider: "cuda", reason: "asked for" };
      throw new ExecutionProviderError("cuda", `${CUDA_NEEDS}; ${problem}`);
    }
    default:
      throw new ConfigError(
        "semantic_model.execution_provider",
        choice,
        EXECUTION_PROVIDERS.map((p) => JSON.stringify(p)).join(", "),
      );
  }
}
