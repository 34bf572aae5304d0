/**
 * Fill value messages: new (type 0x0005, versions 1-3, spec §IV.A.2.f) and old (0x0004). The
 * native reader only needs to know whether unwritten elements read as zeros; it checks the
 * message as HDF5 does when it opens the dataset (version, value inside the message).
 *
 * @module
 */

/** Version 3 flags bit 5: a fill value is defined (size and value follow). */
const V3_DEFINED = 0x20;

/**
 * True when the message defines a fill value with a non-zero byte. `damaged` builds the error
 * for a message HDF5 refuses (an unknown version, a value past the message's end).
 */
export function fillIsNonZero(v: DataView, old: boolean, damaged: (why: string) => Error): boolean {
  let at: number;
  if (old) {
    at = 0;
  } else {
    const version = v.getUint8(0);
    if (version < 1 || version > 3) throw damaged(`fill value message version ${version}`);
    if (version === 3) {
      if (!(v.getUint8(1) & V3_DEFINED)) return false;
      at = 2;
    } else {
      if (v.getUint8(3) === 0) return false;
      at = 4;
    }
  }
  if (at + 4 > v.byteLength) throw damaged("fill value message is cut short");
  const size = v.getUint32(at, true);
  if (at + 4 + size > v.byteLength) {
    throw damaged(`fill value of ${size} bytes overruns its ${v.byteLength}-byte message`);
  }
  for (let i = 0; i < size; i++) if (v.getUint8(at + 4 + i) !== 0) return true;
  return false;
}
