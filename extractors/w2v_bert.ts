/**
 * The `w2v-bert` extractor: `hidden_states` (T, hidden) of one layer of w2v-BERT 2.0, the
 * original pipeline's semantic feature. The model runs through ONNX Runtime on a directory made
 * once by `scripts/export_w2v_bert.py` (model.onnx, w2v_bert_export.json,
 * preprocessor_config.json); the front end is {@linkcode SeamlessFbank}.
 *
 * @module
 */
import { SCHEMA } from "../config/schema.ts";
import { ConfigError, errorMessage, FormatError, SampleError } from "../errors.ts";
import { SeamlessFbank } from "../audio/seamless_fbank.ts";
import type { Tensor } from "../formats/tensor.ts";
import { join } from "../util/path.ts";
import type { ExecutionProvider } from "./execution_provider.ts";
import type { Extractor, ExtractorFactory, OptionsParser } from "./extractor.ts";
import { type OptionFields, optionsParser, withOptions } from "./extractor_options.ts";
import { FRONTEND_FEATURES, FRONTEND_MASK, W2vBertModel } from "./w2v_bert_model.ts";

/** What `scripts/export_w2v_bert.py` writes to w2v_bert_export.json. */
export interface W2vBertExportInfo {
  /** The hidden_states index the ONNX model outputs. */
  layer: number;
  /** Width of each output frame (1024 for w2v-bert-2.0). */
  hidden_size: number;
  /** The model it was exported from (a Hugging Face name or a directory). */
  source_model: string;
  /** ONNX opset. */
  opset: number;
}

/** Options of the `w2v-bert` extractor (JSON: they may travel to a worker). */
export interface W2vBertOptions {
  /** The export directory (config `semantic_model.model_name`, flag `--semantic-model`). */
  model_name: string;
  /** The layer the run asks for (`semantic_model.output_layer`); must equal the export's. */
  output_layer?: number;
  /** ONNX Runtime intra-op threads; 0 lets it choose (one per core). */
  intra_op_threads?: number;
  /**
   * `cpu` (default), `webgpu` (a GPU through Vulkan), or `cuda` (ONNX Runtime's CUDA build);
   * `auto` is resolved before an extractor is built (see resolveExecutionProvider).
   */
  execution_provider?: ExecutionProvider;
  /**
   * Only the front end (fbank features): outputs the model's inputs as `w2v_bert.input_features`
   * and `w2v_bert.attention_mask`, for a {@linkcode W2vBertModel} that runs them in batches
   * elsewhere (FeatureStream's `model`). Opens no session.
   */
  frontend_only?: boolean;
}

/**
 * An explicitly given layer that is not the export's: the CLI exits 2, as for a usage error.
 */
export class LayerMismatchError extends ConfigError {
  /** The CLI's exit status for it. */
  readonly exitStatus = 2;
}

const EXPORT_JSON = "w2v_bert_export.json";
const MODEL = "model.onnx";
const PREPROCESSOR = "preprocessor_config.json";
const MODEL_PATH = "semantic_model.model_name";
const LAYER_PATH = "semantic_model.output_layer";
/** The model this extractor runs, as Hugging Face names it (exported once, see howToExport). */
export const W2V_BERT_SOURCE = "facebook/w2v-bert-2.0";
/** The layer the original pipeline keeps. */
const DEFAULT_LAYER = SCHEMA[LAYER_PATH].default;

function howToExport(name: string, layer: number | undefined): string {
  return `a directory made by scripts/export_w2v_bert.py; export the model once with ` +
    `\`python scripts/export_w2v_bert.py ${name} DIR --layer ${layer ?? DEFAULT_LAYER}\` ` +
    `and set ${MODEL_PATH} (or --semantic-model) to DIR`;
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new FormatError(file, `cannot read it (${errorMessage(e)})`, { cause: e });
  }
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch (e) {
    throw new FormatError(file, `not valid JSON (${errorMessage(e)})`, { cause: e });
  }
  throw new FormatError(file, "expected a JSON object");
}

/**
 * Reads and checks an export directory's description, and that the run's `outputLayer` (when
 * given) is the layer it was exported at.
 */
export async function readW2vBertExport(
  dir: string,
  outputLayer?: number,
): Promise<W2vBertExportInfo & { paddingValue: number }> {
  const stat = await Deno.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory) throw new ConfigError(MODEL_PATH, dir, howToExport(dir, outputLayer));
  const file = join(dir, EXPORT_JSON);
  const info = await readJson(file);
  for (const field of ["layer", "hidden_size"]) {
    if (!Number.isInteger(info[field]) || (info[field] as number) < 1) {
      throw new FormatError(file, `"${field}" must be a whole number >= 1, got ${info[field]}`);
    }
  }
  const layer = info.layer as number;
  if (outputLayer !== undefined && outputLayer !== layer) {
    throw new LayerMismatchError(
      LAYER_PATH,
      outputLayer,
      `${layer}, the layer ${dir} was exported at (re-export with --layer ${outputLayer} ` +
        `for that layer, or set ${LAYER_PATH} / --output-layer to ${layer})`,
    );
  }
  const pre = await readJson(join(dir, PREPROCESSOR));
  const paddingValue = pre.padding_value ?? 0;
  if (typeof paddingValue !== "number") {
    throw new FormatError(join(dir, PREPROCESSOR), `"padding_value" must be a number`);
  }
  if ((pre.stride ?? 2) !== 2 || (pre.num_mel_bins ?? 80) !== 80) {
    throw new FormatError(
      join(dir, PREPROCESSOR),
      `expected SeamlessM4T's stride 2 and 80 mel bins, got stride ${pre.stride}, ` +
        `num_mel_bins ${pre.num_mel_bins}`,
    );
  }
  return {
    layer,
    hidden_size: info.hidden_size as number,
    source_model: String(info.source_model ?? ""),
    opset: Number(info.opset ?? 0),
    paddingValue,
  };
}

/**
 * The up-front check of an export directory, before any audio is read: its JSON files (and the
 * layer, when `outputLayer` is given) as {@linkcode readW2vBertExport}, and that model.onnx (and
 * model.onnx.data, when the export says its weights are there) exists and starts as an ONNX
 * model does. Opens no session, so it costs milliseconds whatever the model's size.
 */
export async function checkW2vBertExport(
  dir: string,
  outputLayer?: number,
): Promise<W2vBertExportInfo & { paddingValue: number }> {
  const info = await readW2vBertExport(dir, outputLayer);
  const modelFile = join(dir, MODEL);
  let head: Uint8Array;
  try {
    using file = await Deno.open(modelFile);
    head = new Uint8Array(16);
    head = head.subarray(0, (await file.read(head)) ?? 0);
  } catch (e) {
    throw new FormatError(modelFile, `missing from the export directory (${errorMessage(e)})`, {
      cause: e,
    });
  }
  // ModelProto's first field is ir_version (field 1, a varint: byte 0x08), between 3 and 99.
  if (head.length < 2 || head[0] !== 0x08 || head[1] < 3 || head[1] > 99) {
    throw new FormatError(
      modelFile,
      `not an ONNX model (it does not start with an ir_version); re-export it with ` +
        `scripts/export_w2v_bert.py`,
    );
  }
  const exportJson = await readJson(join(dir, EXPORT_JSON));
  if (exportJson.external_data === true) {
    const data = join(dir, `${MODEL}.data`);
    await Deno.stat(data).catch((e) => {
      throw new FormatError(
        data,
        `missing: the export keeps its weights there (${errorMessage(e)})`,
      );
    });
  }
  return info;
}

/** The fields of {@linkcode W2vBertOptions} and their rules. */
const W2V_BERT_FIELDS: OptionFields<W2vBertOptions> = {
  model_name: {
    type: "string",
    required: true,
    expected: howToExport(W2V_BERT_SOURCE, DEFAULT_LAYER),
  },
  output_layer: { type: "integer", min: 1 },
  intra_op_threads: { type: "integer", min: 0, default: 0 },
  execution_provider: { type: "enum", values: ["cpu", "webgpu", "cuda"], default: "cpu" },
  frontend_only: { type: "boolean", default: false },
};

/**
 * The `w2v-bert` extractor's options, typed; a bad field throws a ConfigError naming its config
 * path (`semantic_model.model_name`, `semantic_model.output_layer`, ...).
 */
export const parseW2vBertOptions: OptionsParser<W2vBertOptions> = optionsParser(
  W2V_BERT_FIELDS,
  (field) => field === "frontend_only" ? `extractors.w2v-bert.${field}` : `semantic_model.${field}`,
);

/**
 * Builds the `w2v-bert` extractor: checks the export, opens an ONNX Runtime session on it (one
 * clip at a time; `preprocess` instead runs one {@linkcode W2vBertModel} per process on batches,
 * fed by this extractor's `frontend_only` mode on the workers).
 *
 * @example
 * ```ts ignore
 * import w2vBert from "./w2v_bert.ts";
 *
 * const extractor = await w2vBert({ model_name: "w2v_bert_l17", output_layer: 17 });
 * const { hidden_states } = await extractor.extract({ key: "a", audio: new Float32Array(16000) });
 * console.log(hidden_states.shape); // [49, 1024]
 * await extractor.close?.();
 * ```
 */
export const w2vBert: ExtractorFactory<W2vBertOptions> = withOptions(
  parseW2vBertOptions,
  buildW2vBert,
);

async function buildW2vBert(options: W2vBertOptions): Promise<Extractor> {
  const { model_name: dir, output_layer, intra_op_threads = 0 } = options;
  const info = await readW2vBertExport(dir, output_layer);
  const fbank = new SeamlessFbank({ paddingValue: info.paddingValue });
  const frontend = (key: string, audio: Float32Array) => {
    if (audio.length < SeamlessFbank.MIN_SAMPLES) {
      throw new SampleError(
        key,
        `${audio.length} samples at 16 kHz is too short for w2v-BERT ` +
          `(needs ${SeamlessFbank.MIN_SAMPLES}, 35 ms)`,
        undefined,
        "hidden_states",
      );
    }
    return fbank.compute(audio);
  };
  if (options.frontend_only) {
    return {
      name: "w2v-bert",
      sampleRate: 16000,
      outputs: [FRONTEND_FEATURES, FRONTEND_MASK],
      extract({ key, audio }): Record<string, Tensor> {
        const { features, frames, attentionMask } = frontend(key, audio);
        return {
          [FRONTEND_FEATURES]: { dtype: "float32", shape: [frames, 160], data: features },
          [FRONTEND_MASK]: { dtype: "int64", shape: [frames], data: attentionMask },
        };
      },
    };
  }
  const modelFile = join(dir, MODEL);
  await Deno.stat(modelFile).catch((e) => {
    throw new FormatError(modelFile, `missing from the export directory (${errorMessage(e)})`);
  });
  const model = await W2vBertModel.open(modelFile, {
    provider: options.execution_provider,
    intraOpThreads: intra_op_threads,
    hiddenSize: info.hidden_size,
    paddingValue: info.paddingValue,
  });
  return {
    name: "w2v-bert",
    sampleRate: 16000,
    outputs: ["hidden_states"],
    async extract({ key, audio }): Promise<Record<string, Tensor>> {
      const input = frontend(key, audio);
      const [data] = await model.run([input]);
      return {
        hidden_states: { dtype: "float32", shape: [input.frames, info.hidden_size], data },
      };
    },
    close: () => model.close(),
  };
}

export default w2vBert;
