/**
 * Extra benchmark cases (preprocessing from audio, say) beside migrate and reads: a case gives
 * contenders, which run alternating within each repetition like the others, and the report
 * prints a table of their medians. To add one, write `bench/case_<name>.ts` exporting a
 * {@linkcode BenchCase} and list it in `CASES` in `bench/main.ts`.
 */
import type { SizeName } from "./args.ts";
import type { Contender, Paths } from "./contenders.ts";

export interface BenchCase {
  /** Heading of its table in the report, e.g. "preprocess (WAV -> HDF5)". */
  title: string;
  /** Its contenders (ids `<case>:<who>`); a contender with `unavailable` set is listed, not run. */
  contenders(paths: Paths, size: SizeName): Contender[] | Promise<Contender[]>;
}
