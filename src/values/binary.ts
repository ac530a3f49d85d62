/*
 * A compact binary encoding of stored values (JSON-like + Date + bigint + undefined), used for
 * change sets crossing threads (and processes, through PostgreSQL). Decoding yields frozen values,
 * as the store keeps them, in one pass.
 *
 * Plain objects are written as their field names (one block) followed by their values, so both
 * sides can compile one function per record shape: the writer reads each field by name (no key
 * array, no keyed loads) and the reader builds each record as one object literal (the fastest
 * kind of object to make and to read). Objects written field by field (`T_OBJECT`, the first
 * layout) are still read.
 */
export { BinaryWriter, WRITER_FULL, putFlat } from './binary-writer'
export { BinaryReader, RecentStrings, RepeatedString } from './binary-reader'
