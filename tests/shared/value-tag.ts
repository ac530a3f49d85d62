// A test helper shared by the shared-database property tests.

/** A value as text that tells -0 from 0, a bigint from a number and a Date from its time. */
export function tag(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'string') return JSON.stringify(v)
  if (v instanceof Date) return `Date(${v.getTime()})`
  if (Array.isArray(v)) return `[${v.map(tag).join(',')}]`
  if (typeof v === 'object' && v !== null) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${tag(x)}`).join(',')}}`
  return String(v)
}
