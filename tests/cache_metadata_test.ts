import { assertEquals, assertThrows } from "./helpers/assert.ts";
import { CacheError } from "../errors.ts";
import {
  type MetadataProblem,
  readCacheMetadata,
  recordedEncoding,
  recordedMelConfig,
  writeCacheMetadata,
} from "../cache/cache_metadata.ts";

Deno.test("readCacheMetadata: absent is undefined, each unusable file goes to the reader's choice", async () => {
  const dir = await Deno.makeTempDir();
  assertEquals(readCacheMetadata(dir), undefined);
  const seen: MetadataProblem[] = [];
  const note = (problem: MetadataProblem) => {
    seen.push(problem);
    return undefined;
  };
  for (const text of ["{", "[1]", "null"]) {
    Deno.writeTextFileSync(`${dir}/metadata.json`, text);
    assertEquals(readCacheMetadata(dir), undefined); // lenient by default
    readCacheMetadata(dir, note);
  }
  Deno.removeSync(`${dir}/metadata.json`);
  Deno.mkdirSync(`${dir}/metadata.json`);
  readCacheMetadata(dir, note);
  assertEquals(seen, ["json", "object", "object", "unreadable"]);
  assertThrows(
    () =>
      readCacheMetadata(dir, (_, reason) => {
        throw new CacheError(dir, reason);
      }),
    CacheError,
    "cannot read metadata.json",
  );
  Deno.removeSync(`${dir}/metadata.json`);
  writeCacheMetadata(dir, { compression_level: 6, shuffle: true, chunk_bytes: "x", mel_config: 3 });
  const meta = readCacheMetadata(dir);
  // Typed views take only values of the right type: a tampered field reads as absent.
  assertEquals(recordedEncoding(meta), { compressionLevel: 6, shuffle: true });
  assertEquals(recordedMelConfig(meta), undefined);
  assertEquals(recordedMelConfig({ preprocessing: { mel_config: { n_mel: 80 } } }), { n_mel: 80 });
  await Deno.remove(dir, { recursive: true });
});
