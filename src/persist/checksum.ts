import * as zlib from 'node:zlib'

// zlib.crc32 is native from Node 20.15; older 20.x get the same CRC-32 (IEEE) in JS.
const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32
let table: Uint32Array | undefined

function crc32js(data: Uint8Array, value = 0): number {
  if (table === undefined) {
    table = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      table[n] = c >>> 0
    }
  }
  let crc = ~value >>> 0
  for (let i = 0; i < data.length; i++) crc = (table[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8)
  return ~crc >>> 0
}

/** CRC-32 (IEEE 802.3, as zlib and PNG) of `data`, continuing from `value`. */
export function crc32(data: Uint8Array, value = 0): number {
  return native !== undefined ? native(data, value) : crc32js(data, value)
}

/** A CRC-32 as 8 lowercase hex digits. */
export function crcHex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0')
}
