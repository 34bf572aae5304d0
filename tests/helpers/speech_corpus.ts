/**
 * A tiny speech corpus made at test time: espeak-ng speaks short sentences to 22.05 kHz PCM16
 * WAV (as LJSpeech ships), sox makes the awkward variants, and two broken files are added.
 * A few seconds of audio in all, so the reference libraries check it in seconds.
 *
 * @module
 */

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** One file of the corpus. */
export interface CorpusFile {
  /** File name without `.wav`. */
  name: string;
  path: string;
  /** False for the truncated file and the text file named `.wav`. */
  valid: boolean;
}

/** True when espeak-ng and sox both run. */
export async function haveSpeechTools(): Promise<boolean> {
  try {
    await run("espeak-ng", ["--version"]);
    await run("sox", ["--version"]);
    return true;
  } catch {
    return false;
  }
}

/** Speaks `text` to a 22.05 kHz 16-bit mono WAV at `path`. */
export async function speak(text: string, path: string): Promise<void> {
  await run("espeak-ng", ["-w", path, text]);
}

const SENTENCES = [
  "Printing, in the only sense.",
  "The earliest book printed with movable types.",
  "Is a fine book.",
];

/**
 * Writes the awkward set into `dir` and returns its files in name order: speech at 22.05 kHz
 * PCM16 (two sentences), stereo and three-channel mixes, 24-bit, 8-bit unsigned, float32 and
 * float64, 48 kHz and already-16 kHz resamplings (sox, no dither), near-silence, a 50 ms clip,
 * a truncated file and a text file named `.wav`.
 */
export async function makeAwkwardFiles(dir: string): Promise<CorpusFile[]> {
  await Deno.mkdir(dir, { recursive: true });
  const p = (name: string) => `${dir}/${name}.wav`;
  await speak(SENTENCES[0], p("a_speech"));
  await speak(SENTENCES[1], p("b_speech"));
  const a = p("a_speech"), b = p("b_speech");
  // Channels of different lengths: sox pads the shorter with silence.
  await run("sox", ["-M", a, b, p("c_stereo")]);
  await run("sox", ["-M", a, b, a, p("d_three_channels")]);
  await run("sox", [a, "-b", "24", p("e_pcm24")]);
  await run("sox", ["-D", a, "-b", "8", "-e", "unsigned-integer", p("f_pcm8")]);
  await run("sox", [a, "-e", "floating-point", "-b", "32", p("g_float32")]);
  await run("sox", [a, "-e", "floating-point", "-b", "64", p("h_float64")]);
  await run("sox", ["-D", b, "-r", "48000", p("i_48k")]);
  await run("sox", ["-D", b, "-r", "16000", p("j_16k")]);
  await run("sox", ["-D", a, p("k_near_silence"), "vol", "0.002"]);
  await run("sox", [a, p("l_50ms"), "trim", "0.3", "0.05"]);
  const whole = await Deno.readFile(b);
  await Deno.writeFile(p("y_truncated"), whole.subarray(0, Math.floor(whole.length / 2)));
  await Deno.writeTextFile(p("z_text"), "this is not audio\n");
  const names = [
    "a_speech",
    "b_speech",
    "c_stereo",
    "d_three_channels",
    "e_pcm24",
    "f_pcm8",
    "g_float32",
    "h_float64",
    "i_48k",
    "j_16k",
    "k_near_silence",
    "l_50ms",
  ];
  return [
    ...names.map((name) => ({ name, path: p(name), valid: true })),
    { name: "y_truncated", path: p("y_truncated"), valid: false },
    { name: "z_text", path: p("z_text"), valid: false },
  ];
}

/** Speaks sentence `i` (cycling through a few) into `path`, for corpus layouts. */
export function speakSentence(i: number, path: string): Promise<void> {
  return speak(SENTENCES[i % SENTENCES.length], path);
}
