/**
 * WAV decoding to mono float32, as the original pipeline loads audio (`torchaudio.load`, then
 * the mean of the channels). Pure: bytes in, samples out.
 *
 * @module
 */
import { FormatError } from "../errors.ts";

/** A decoded WAV file, its channels averaged. */
export interface DecodedAudio {
  /** Samples per second, as the file's header says. */
  sampleRate: number;
  /** Channels in the file (before averaging). */
  channels: number;
  /** Mono samples, nominally in [-1, 1): the mean of the channels. */
  audio: Float32Array;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
// RF64 puts this in a 32-bit size field that the ds64 chunk overrides; streaming writers put it
// in a plain RIFF file's data size when they cannot seek back: the data runs to the end of the file.
const RF64_SIZE_IN_DS64 = 0xffffffff;

/** Lowest sample rate a header may claim (Hz); below it a header is taken as damaged. */
export const MIN_SAMPLE_RATE = 1000;
/** Highest sample rate a header may claim (Hz). */
export const MAX_SAMPLE_RATE = 384000;

/** Options of {@linkcode decodeWav}. */
export interface DecodeOptions {
  /**
   * Longest audio (seconds) a file may hold, checked from its header before any sample is
   * decoded (`preprocessing.max_audio_seconds`). Default: no limit.
   */
  maxSeconds?: number;
}

/** G.711 u-law byte -> 16-bit linear value (as libsndfile and sox decode it). */
function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7)) - 0x84;
  return u & 0x80 ? -magnitude : magnitude;
}

/** G.711 A-law byte -> 16-bit linear value (as libsndfile and sox decode it). */
function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 7;
  const mantissa = (a & 0x0f) << 4;
  const magnitude = exponent === 0 ? mantissa + 8 : (mantissa + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

function table(decode: (byte: number) => number): Float32Array {
  return Float32Array.from({ length: 256 }, (_, b) => decode(b) / 32768);
}
let ULAW: Float32Array | undefined;
let ALAW: Float32Array | undefined;

interface Format {
  tag: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
}

function fourCC(view: DataView, at: number): string {
  return String.fromCharCode(
    view.getUint8(at),
    view.getUint8(at + 1),
    view.getUint8(at + 2),
    view.getUint8(at + 3),
  );
}

function readFormat(view: DataView, at: number, size: number, file: string): Format {
  if (size < 16) throw new FormatError(file, `fmt chunk of ${size} bytes, expected >= 16`);
  let tag = view.getUint16(at, true);
  const bits = view.getUint16(at + 14, true);
  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    // The real format is the first two bytes of the SubFormat GUID.
    if (size < 40) {
      throw new FormatError(file, `WAVE_FORMAT_EXTENSIBLE fmt chunk of ${size} bytes, expected 40`);
    }
    tag = view.getUint16(at + 24, true);
  }
  return {
    tag,
    channels: view.getUint16(at + 2, true),
    sampleRate: view.getUint32(at + 4, true),
    blockAlign: view.getUint16(at + 12, true),
    bits,
  };
}

/** One sample reader per supported encoding: bytes at `at` -> a value in [-1, 1). */
function sampleReader(
  format: Format,
  file: string,
): (view: DataView, at: number) => number {
  const { tag, bits } = format;
  if (tag === WAVE_FORMAT_PCM) {
    switch (bits) {
      case 8:
        return (v, at) => (v.getUint8(at) - 128) / 128;
      case 16:
        return (v, at) => v.getInt16(at, true) / 32768;
      case 24:
        return (v, at) => ((v.getUint16(at, true) | (v.getInt8(at + 2) << 16)) / 8388608);
      case 32:
        return (v, at) => v.getInt32(at, true) / 2147483648;
    }
  } else if (tag === WAVE_FORMAT_IEEE_FLOAT) {
    if (bits === 32) return (v, at) => v.getFloat32(at, true);
    if (bits === 64) return (v, at) => v.getFloat64(at, true);
  } else if (tag === WAVE_FORMAT_MULAW && bits === 8) {
    const t = ULAW ??= table(ulawToLinear);
    return (v, at) => t[v.getUint8(at)];
  } else if (tag === WAVE_FORMAT_ALAW && bits === 8) {
    const t = ALAW ??= table(alawToLinear);
    return (v, at) => t[v.getUint8(at)];
  }
  const kind = tag === WAVE_FORMAT_PCM
    ? "PCM"
    : tag === WAVE_FORMAT_IEEE_FLOAT
    ? "IEEE float"
    : tag === WAVE_FORMAT_MULAW
    ? "u-law"
    : tag === WAVE_FORMAT_ALAW
    ? "A-law"
    : `format tag 0x${tag.toString(16).padStart(4, "0")}`;
  throw new FormatError(
    file,
    `unsupported WAV encoding: ${kind}, ${bits} bits (supported: PCM 8/16/24/32-bit, IEEE float 32/64-bit, u-law and A-law 8-bit)`,
  );
}

/**
 * Decodes a RIFF or RF64 WAV file: PCM 8 (unsigned), 16, 24 and 32-bit integers scaled by
 * 2^(bits-1), IEEE float 32 and 64-bit as they are, u-law and A-law (G.711, to 16-bit linear
 * then / 32768, as libsndfile and torchaudio give them), plain or WAVE_FORMAT_EXTENSIBLE, any
 * channel count (averaged to mono). A data size of 0xFFFFFFFF (a streaming writer's) means the
 * data runs to the end of the file. Anything else, a file cut short, a header rate outside
 * {@linkcode MIN_SAMPLE_RATE}..{@linkcode MAX_SAMPLE_RATE} Hz, or more audio than
 * `options.maxSeconds` (by the header, before decoding), throws a {@linkcode FormatError}
 * naming `file`.
 *
 * @example
 * ```ts
 * import { decodeWav } from "./wav.ts";
 *
 * // 44-byte header + two 16-bit stereo frames: (16384, -16384) and (32767, 32767).
 * const bytes = new Uint8Array(52);
 * const view = new DataView(bytes.buffer);
 * const text = (at: number, s: string) => [...s].forEach((c, i) => bytes[at + i] = c.charCodeAt(0));
 * text(0, "RIFF"), view.setUint32(4, 44, true), text(8, "WAVE");
 * text(12, "fmt "), view.setUint32(16, 16, true), view.setUint16(20, 1, true);
 * view.setUint16(22, 2, true), view.setUint32(24, 16000, true), view.setUint32(28, 64000, true);
 * view.setUint16(32, 4, true), view.setUint16(34, 16, true);
 * text(36, "data"), view.setUint32(40, 8, true);
 * [16384, -16384, 32767, 32767].forEach((s, i) => view.setInt16(44 + 2 * i, s, true));
 *
 * const { sampleRate, channels, audio } = decodeWav(bytes, "two_frames.wav");
 * if (sampleRate !== 16000 || channels !== 2) throw new Error("header");
 * if (audio[0] !== 0 || audio[1] !== Math.fround(32767 / 32768)) throw new Error("samples");
 * ```
 */
export function decodeWav(
  bytes: Uint8Array,
  file: string,
  options: DecodeOptions = {},
): DecodedAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12) {
    throw new FormatError(file, `not a WAV file: ${bytes.length} bytes, too short for a header`);
  }
  const riff = fourCC(view, 0);
  if ((riff !== "RIFF" && riff !== "RF64" && riff !== "BW64") || fourCC(view, 8) !== "WAVE") {
    throw new FormatError(
      file,
      `not a WAV file: starts with ${
        JSON.stringify(fourCC(view, 0))
      }, expected "RIFF" or "RF64" then "WAVE"`,
    );
  }
  let format: Format | undefined;
  let data: { at: number; size: number } | undefined;
  let ds64DataSize: number | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourCC(view, at);
    let size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "ds64" && size >= 16) {
      ds64DataSize = Number(view.getBigUint64(body + 8, true));
    } else if (id === "fmt ") {
      if (body + size > bytes.length) throw truncated(file, "fmt", size, bytes.length - body);
      format = readFormat(view, body, size, file);
    } else if (id === "data") {
      if (size === RF64_SIZE_IN_DS64) size = ds64DataSize ?? bytes.length - body;
      data = { at: body, size };
      break;
    }
    at = body + size + (size & 1);
  }
  if (!format) {
    throw new FormatError(file, "WAV file has no fmt chunk before its data (truncated header?)");
  }
  if (!data) throw new FormatError(file, "WAV file has no data chunk (truncated header?)");
  const { channels, blockAlign } = format;
  if (channels < 1) {
    throw new FormatError(file, `WAV header says ${channels} channels; must be >= 1`);
  }
  if (format.sampleRate < MIN_SAMPLE_RATE || format.sampleRate > MAX_SAMPLE_RATE) {
    throw new FormatError(
      file,
      `WAV header says ${format.sampleRate} Hz; a sample rate must be ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE} Hz (damaged header?)`,
    );
  }
  const read = sampleReader(format, file);
  const width = format.bits / 8;
  if (blockAlign < channels * width) {
    throw new FormatError(
      file,
      `WAV block align ${blockAlign} is too small for ${channels} x ${format.bits}-bit samples`,
    );
  }
  const frames = Math.floor(data.size / blockAlign);
  const seconds = frames / format.sampleRate;
  if (options.maxSeconds !== undefined && seconds > options.maxSeconds) {
    throw new FormatError(
      file,
      `WAV header says ${frames} frames at ${format.sampleRate} Hz (${
        seconds.toFixed(1)
      } s), more than preprocessing.max_audio_seconds (${options.maxSeconds} s)`,
    );
  }
  if (data.at + data.size > bytes.length) {
    throw truncated(file, "data", data.size, bytes.length - data.at);
  }
  const audio = new Float32Array(frames);
  for (let f = 0, p = data.at; f < frames; f++, p += blockAlign) {
    let sum = 0;
    // Each channel is float32 first (as torchaudio.load gives it), then averaged.
    for (let c = 0; c < channels; c++) sum += Math.fround(read(view, p + c * width));
    audio[f] = channels === 1 ? sum : sum / channels;
  }
  return { sampleRate: format.sampleRate, channels, audio };
}

function truncated(file: string, chunk: string, declared: number, present: number): FormatError {
  return new FormatError(
    file,
    `truncated WAV file: the ${chunk} chunk declares ${declared} bytes, only ${
      Math.max(0, present)
    } are there`,
  );
}

/**
 * Encodes mono float samples as a 16-bit PCM WAV file (values x 32768, rounded, clipped), for
 * tests, examples and small tools.
 *
 * @example
 * ```ts
 * import { decodeWav, encodeWav } from "./wav.ts";
 *
 * const bytes = encodeWav(Float32Array.of(0, 0.5, -1), 16000);
 * const back = decodeWav(bytes, "mem.wav");
 * if (back.audio.join() !== "0,0.5,-1" || back.sampleRate !== 16000) throw new Error();
 * ```
 */
export function encodeWav(audio: Float32Array, sampleRate: number): Uint8Array {
  const bytes = new Uint8Array(44 + 2 * audio.length);
  const view = new DataView(bytes.buffer);
  const text = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) bytes[at + i] = s.charCodeAt(i);
  };
  text(0, "RIFF");
  view.setUint32(4, bytes.length - 8, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, 2 * sampleRate, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, 2 * audio.length, true);
  for (let i = 0; i < audio.length; i++) {
    view.setInt16(
      44 + 2 * i,
      Math.max(-32768, Math.min(32767, Math.round(audio[i] * 32768))),
      true,
    );
  }
  return bytes;
}
