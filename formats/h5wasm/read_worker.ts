/**
 * Web Worker entry that reads samples for a cache reader on another thread: it gets a shard
 * path, a group and read options, and answers with the tensors' buffers (moved, not copied) or
 * with the error, flattened so the caller can rethrow the same kind of error.
 *
 * @module
 */
import { type H5Module, loadH5wasm } from "./module.ts";
import { readSample } from "../read_sample.ts";
import { ShardCache } from "../shard_reader.ts";
import { type ReadReply, type ReadRequest, toWire, type WireTensor } from "./wire.ts";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<ReadRequest>) => void) | null;
  postMessage(message: ReadReply, transfer?: Transferable[]): void;
};
// The handler is set before h5wasm loads: a message that arrives while nobody listens is lost.
const ready = loadH5wasm();
let files: ShardCache | undefined;
scope.onmessage = (event) => {
  ready.then((module) => handle(module, event.data));
};

function handle(module: H5Module, req: ReadRequest): void {
  try {
    files ??= new ShardCache(module, req.maxOpenFiles);
    const file = files.get(req.path);
    const sample = readSample(file, req.key, req.group, req.label, req.options);
    const tensors: WireTensor[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(sample)) {
      // Each tensor owns its whole buffer (one copy out of wasm memory), so it can move.
      const buffer = t.data.buffer as ArrayBuffer;
      tensors.push({ name, dtype: t.dtype, shape: t.shape, buffer });
      if (!transfer.includes(buffer)) transfer.push(buffer);
    }
    scope.postMessage({ id: req.id, tensors }, transfer);
  } catch (e) {
    scope.postMessage({ id: req.id, error: toWire(e) });
  }
}
