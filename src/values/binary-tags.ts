// The tags of the binary value codec (./binary.ts): the byte before each value.
export const T_NULL = 0
export const T_UNDEFINED = 1
export const T_FALSE = 2
export const T_TRUE = 3
export const T_INT = 4
export const T_FLOAT = 5
export const T_STRING = 6
export const T_BIGINT = 7
export const T_DATE = 8
export const T_ARRAY = 9
export const T_OBJECT = 10
/** A plain object: field count, the names block, then the values in the same order. */
export const T_FIELDS = 11
