import { InvalidArgumentError, describe } from '../errors'

/**
 * An amount of money: an integer number of minor units (cents) as a safe-integer `number` or a
 * `bigint`, or a decimal string in major units (`'10.50'`). Never a binary fraction.
 */
export type Amount = number | bigint | string

/** A rate such as a commission: a decimal string (`'0.15'`) or a number read as its shortest decimal (`0.15`). */
export type Rate = number | string

/** An exact decimal rate `num / den`, with the text it was read from. */
export interface Ratio {
  readonly num: bigint
  readonly den: bigint
  readonly text: string
}

const AMOUNT_FORMS = "an integer number of minor units (a safe integer or a bigint) or a decimal string such as '10.50'"

/** Reads an amount into minor units; refuses negatives, fractions of a minor unit and floats. */
export function toMinor(value: unknown, scale: number, name = 'amount'): bigint {
  if (typeof value === 'bigint') return nonNegative(value, value, name)
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return nonNegative(BigInt(value), value, name)
    if (Number.isFinite(value) && !Number.isInteger(value)) {
      throw new InvalidArgumentError(
        `Expected \`${name}\` to be ${AMOUNT_FORMS}, got ${describe(value)}: a number is read as minor units, and a fraction of a minor unit is not money ` +
          `(write '${value}' as a string for major units)`,
      )
    }
  }
  if (typeof value === 'string') return fromDecimal(value, scale, name)
  throw new InvalidArgumentError(`Expected \`${name}\` to be ${AMOUNT_FORMS}, got ${describe(value)}`)
}

/** Reads a strictly positive amount (what moves money: deposits, transfers, holds). */
export function toPositiveMinor(value: unknown, scale: number, name = 'amount'): bigint {
  const minor = toMinor(value, scale, name)
  if (minor === 0n) throw new InvalidArgumentError(`Expected \`${name}\` to be more than zero, got ${describe(value)}`)
  return minor
}

function nonNegative(minor: bigint, given: unknown, name: string): bigint {
  if (minor < 0n) throw new InvalidArgumentError(`Expected \`${name}\` to be zero or more, got ${describe(given)}: a negative amount is not money moved`)
  return minor
}

function fromDecimal(text: string, scale: number, name: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text)
  if (match === null) throw new InvalidArgumentError(`Expected \`${name}\` to be ${AMOUNT_FORMS}, got ${describe(text)}`)
  const [, sign, whole = '', fraction = ''] = match
  if (sign === '-' && /[1-9]/.test(whole + fraction)) nonNegative(-1n, text, name)
  const kept = fraction.slice(0, scale)
  if (/[1-9]/.test(fraction.slice(scale))) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a whole number of minor units (${scale} decimals at most), got ${describe(text)}: a fraction of a minor unit`)
  }
  return BigInt(whole + kept.padEnd(scale, '0'))
}

/** Minor units as a decimal string in major units: `1050n` → `'10.50'` (scale 2). */
export function formatMinor(minor: bigint, scale: number): string {
  const sign = minor < 0n ? '-' : ''
  const digits = (minor < 0n ? -minor : minor).toString().padStart(scale + 1, '0')
  if (scale === 0) return sign + digits
  return `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`
}

/** Reads a rate between 0 and 1 exactly: a number by its shortest decimal string (`String(0.15)`). */
export function toRatio(value: unknown, name: string): Ratio {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value
  const match = typeof text === 'string' ? /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text) : null
  if (match === null) throw new InvalidArgumentError(`Expected \`${name}\` to be a rate from 0 to 1, as a number or a decimal string such as '0.15', got ${describe(value)}`)
  const [, whole = '', fraction = '', exponent = '0'] = match
  if (Math.abs(Number(exponent)) > 400) throw new InvalidArgumentError(`Expected \`${name}\` to be a rate from 0 to 1, got ${describe(value)}`)
  const shift = BigInt(exponent) - BigInt(fraction.length)
  let num = BigInt(whole + fraction)
  let den = 1n
  if (shift >= 0n) num *= 10n ** shift
  else den = 10n ** -shift
  if (num > den) throw new InvalidArgumentError(`Expected \`${name}\` to be a rate from 0 to 1, got ${describe(value)}`)
  return { num, den, text: text as string }
}

/** `amount × rate`, rounded half-up to a whole minor unit (amount and rate are non-negative). */
export function applyRate(amount: bigint, rate: Ratio): bigint {
  return (2n * amount * rate.num + rate.den) / (2n * rate.den)
}

/** Checks a ledger's `scale`: how many decimals its minor unit has (0 to 18). */
export function checkScale(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 18) {
    throw new InvalidArgumentError(`Expected \`scale\` to be an integer from 0 to 18 (decimals of the minor unit: 2 for cents), got ${describe(value)}`)
  }
  return value
}
