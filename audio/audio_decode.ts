/**
 * {@linkcode decodeAudio}: any supported audio file to mono float32, by its leading bytes: WAV
 * (our own decoder) and MP3 (mpg123 compiled to WASM, from npm, imported on first use). FLAC is
 * not read: the npm FLAC decoder we tried drops the last partial frame of every file.
 *
 * @module
 */
import { loadMpegDecoder } from "../deps.ts";
import { FormatError } from "../errors.ts";
import { type DecodedAudio, type DecodeOptions, decodeWav } from "./wav.ts";

/** What the WASM decoders return. */
interface WasmDecoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

function ascii(bytes: Uint8Array, n: number): string {
  return String.fromCharCode(...bytes.subarray(0, n));
}

/** The container of `bytes` by its magic number, else by the file's extension. */
export function sniffAudio(bytes: Uint8Array, file: string): "wav" | "mp3" {
  const head = ascii(bytes, 4);
  if (head === "RIFF" || head === "RF64" || head === "BW64") return "wav";
  if (head.startsWith("ID3") || (bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0)) return "mp3";
  if (/\.mp3$/i.test(file)) return "mp3";
  return "wav";
}

/** Mean of the channels (float32 already, as torchaudio.load gives them). */
function mixDown(channels: Float32Array[]): Float32Array {
  const n = channels[0]?.length ?? 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (const c of channels) sum += c[i];
    out[i] = sum / channels.length;
  }
  return out;
}

function checked(result: WasmDecoded, bytes: Uint8Array, file: string, kind: string) {
  if (result.errors.length > 0) {
    throw new FormatError(file, `${kind}: ${result.errors.map((e) => e.message).join("; ")}`);
  }
  if (result.samplesDecoded === 0 && bytes.length > 0) {
    throw new FormatError(file, `not a decodable ${kind} file: no audio frames found`);
  }
  return result;
}

/**
 * Decodes a WAV or MP3 file to mono float32 at its own rate; MP3 frames as mpg123 decodes them
 * (the decoder libsndfile uses too). Undecodable input, or more audio than `options.maxSeconds`
 * (a WAV's by its header, before decoding), throws a {@linkcode FormatError} naming `file`.
 *
 * @example
 * ```ts
 * import { decodeAudio } from "./audio_decode.ts";
 * import { encodeWav } from "./wav.ts";
 *
 * const decoded = await decodeAudio(encodeWav(Float32Array.of(0.25, -0.5), 8000), "a.wav");
 * if (decoded.audio.join() !== "0.25,-0.5") throw new Error();
 * ```
 */
export async function decodeAudio(
  bytes: Uint8Array,
  file: string,
  options: DecodeOptions = {},
): Promise<DecodedAudio> {
  const kind = sniffAudio(bytes, file);
  if (kind === "wav") return decodeWav(bytes, file, options);
  const { MPEGDecoder } = await loadMpegDecoder();
  const decoder = new MPEGDecoder();
  await decoder.ready;
  try {
    const r = checked(await decoder.decode(bytes) as WasmDecoded, bytes, file, "MP3");
    const seconds = r.samplesDecoded / r.sampleRate;
    if (options.maxSeconds !== undefined && seconds > options.maxSeconds) {
      throw new FormatError(
        file,
        `MP3 of ${
          seconds.toFixed(1)
        } s, more than preprocessing.max_audio_seconds (${options.maxSeconds} s)`,
      );
    }
    return {
      sampleRate: r.sampleRate,
      channels: r.channelData.length,
      audio: mixDown(r.channelData),
    };
  } finally {
    decoder.free();
  }
}
