/**
 * Zip record layouts shared by the reader and the writer, after PKWARE's APPNOTE.TXT (section
 * numbers below): signatures, fixed record sizes, flags and limits, all in one place.
 *
 * @module
 */

/** Compression method `stored` (APPNOTE 4.4.5). */
export const STORED = 0;
/** Compression method `deflated` (APPNOTE 4.4.5). */
export const DEFLATED = 8;

/** Local file header signature (4.3.7). */
export const SIG_LOCAL = 0x04034b50;
/** Central directory file header signature (4.3.12). */
export const SIG_CENTRAL = 0x02014b50;
/** End of central directory record signature (4.3.16). */
export const SIG_EOCD = 0x06054b50;
/** Zip64 end of central directory record signature (4.3.14). */
export const SIG_EOCD64 = 0x06064b50;
/** Zip64 end of central directory locator signature (4.3.15). */
export const SIG_EOCD64_LOCATOR = 0x07064b50;
/** Fixed part of a local file header, before name and extra. */
export const LOCAL_SIZE = 30;
/** Fixed part of a central directory header, before name, extra and comment. */
export const CENTRAL_SIZE = 46;
/** End of central directory record without its comment. */
export const EOCD_SIZE = 22;
/** Zip64 end of central directory record (version 1, no extensible data). */
export const EOCD64_SIZE = 56;
/** Zip64 end of central directory locator. */
export const LOCATOR_SIZE = 20;
/** Longest archive comment: how far back the end record may sit. */
export const MAX_COMMENT = 0xffff;
/** A 32-bit size or offset field at this value defers to the zip64 extra. */
export const U32_MAX = 0xffffffff;
/** A 16-bit count at this value defers to the zip64 end record. */
export const U16_MAX = 0xffff;
/** Header id of the zip64 extended information extra field (4.5.3). */
export const ZIP64_EXTRA = 0x0001;
/** Size of a local header's zip64 extra: id, length, size and compressed size. */
export const LOCAL_ZIP64_EXTRA_SIZE = 20;
/** General purpose flag: encrypted (4.4.4 bit 0). */
export const FLAG_ENCRYPTED = 0x0001;
/** General purpose flag: sizes follow the data in a descriptor (4.4.4 bit 3). */
export const FLAG_DATA_DESCRIPTOR = 0x0008;
/** General purpose flag: name is UTF-8 (4.4.4 bit 11). */
export const FLAG_UTF8 = 0x0800;
/** "Version needed to extract" for plain deflate archives (4.4.3). */
export const VERSION_DEFAULT = 20;
/** "Version needed to extract" once zip64 records are used (4.4.3). */
export const VERSION_ZIP64 = 45;
