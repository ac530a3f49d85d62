import type { Database } from '../database'
import { InvalidArgumentError, InvalidStateError, RecordNotFoundError, describe } from '../errors'
import { checkFunction, checkName, checkOptions } from '../options'
import type { Table } from '../table'
import { Template, checkReset, periodOf, readClock, type FormatFunction, type ResetPeriod } from './sequence-format'
import { systemTable } from './system-table'
import { shortName } from '../values/describe'

/** Options of `db.sequence(name, options)`. */
export interface SequenceOptions {
  /** A template such as `'PRO-{YYYY}-{0000}'` (default `'{0}'`), or a function `(n, date) => id`. */
  format?: string | FormatFunction
  /** Restart at 1 when the year, month or day changes (default `'never'`). */
  reset?: ResetPeriod
  /** The clock (default `() => new Date()`); for tests. Not stored: each handle has its own. */
  now?: () => Date
}

/** A sequence's stored state: one record of the system table `_sequences`. */
interface SequenceRecord {
  id: string
  /** The template, or null when the format is a function. */
  format: string | null
  /** `String(fn)` of a format function: how the function is recognised when given again. */
  formatFunction: string | null
  reset: ResetPeriod
  /** The last number taken in `period` (0 before the first). */
  value: number
  period: string | null
  /** When the last number was taken: the sequence never goes back in time. */
  at: Date | null
}

/** What identifies a sequence's numbering; compared when the sequence is opened again. */
type Spec = Pick<SequenceRecord, 'id' | 'format' | 'formatFunction' | 'reset'>

const TABLE = '_sequences'
const SEQUENCE_OPTIONS = ['format', 'reset', 'now'] as const
/** Format functions cannot be stored: each database remembers those given in this process. */
const formatFunctions = new WeakMap<Database, Map<string, FormatFunction>>()

/**
 * Gap-free, duplicate-free numbering kept in the database (system table `_sequences`): saved,
 * loaded and shared with workers like any table. `next()` is one atomic transaction; a number
 * taken inside a transaction that rolls back is given back.
 *
 * @example
 * ```ts
 * const seq = db.sequence('property', { format: 'PRO-{YYYY}-{0000}', reset: 'yearly' })
 * seq.next()   // 'PRO-2026-0001'
 * seq.next()   // 'PRO-2026-0002'
 * seq.current  // 2
 * ```
 */
export class Sequence {
  /** The sequence name. */
  readonly name: string
  readonly #db: Database
  readonly #spec: Spec
  readonly #render: (n: number, date: Date) => string
  /** The template, when the format is one (it renders with no user code), else null. */
  readonly #template: Template | null
  readonly #now: () => Date

  /** @internal Sequences are opened with `db.sequence(name, options)`. */
  constructor(db: Database, spec: Spec, format: Template | ((n: number, date: Date) => string), now: () => Date) {
    this.#db = db
    this.#spec = spec
    this.name = spec.id
    this.#template = format instanceof Template ? format : null
    this.#render = format instanceof Template ? (n, date) => format.render(n, date) : format
    this.#now = now
  }

  /** Takes the next number and returns its id. Atomic; given back if the enclosing transaction rolls back. */
  next(): string {
    systemTable(this.#db, TABLE)
    const clock = readClock(this.#now)
    if (this.#template !== null) {
      // One update of the record by key, computed from it (no user code: the clock was read
      // above, a template renders after): in a shared database it takes no table lock, and if
      // another thread took a number meanwhile, it is computed again as it is appended.
      const row = this.#updateRecord(clock, true)
      // The stored date itself: a template only reads it (a format function gets a copy).
      if (row !== undefined) return this.#template.render(row.value, row.at as Date)
    } else {
      // A format function is user code: the id is made (and checked) before the number is
      // taken, so one that throws takes none.
      let id = ''
      const row = this.#updateRecord(clock, false, (n, date) => (id = this.#format(n, date)))
      if (row !== undefined) return id
    }
    // No record (it was deleted): created again, in a transaction.
    return this.#db.transaction(
      () => {
        const table = this.#table()
        const row = table.get(this.name)
        const { n, date, period } = this.#step(row, clock)
        const id = this.#format(n, date)
        if (row === undefined) table.insert({ ...this.#spec, value: n, period, at: date })
        else table.update({ value: n, period, at: date }, { id: this.name })
        return id
      },
      { tables: [TABLE] },
    )
  }

  /**
   * Takes the next number by updating the sequence's record, computed from it (`pure`: by this
   * module's code alone, so that a shared database may compute it again as it appends; `made`
   * sees the number first); the record as stored, or undefined if there is none.
   */
  #updateRecord(clock: Date, pure: boolean, made?: (n: number, date: Date) => void): SequenceRecord | undefined {
    try {
      return this.#table().updateComputed(
        this.name,
        (row) => {
          const { n, date, period } = this.#step(row, clock)
          made?.(n, date)
          return { value: n, period, at: date }
        },
        pure,
      )
    } catch (error) {
      if (error instanceof RecordNotFoundError) return undefined
      throw error
    }
  }

  /** The id `next()` would return now, without taking it (nothing is reserved). */
  peek(): string {
    const row = this.#db.hasTable(TABLE) ? this.#table().get(this.name) : undefined
    const { n, date } = this.#step(row)
    return this.#format(n, date)
  }

  /** The last number taken (0 before the first); it restarts with the first `next()` of a new period. */
  get current(): number {
    return this.#db.hasTable(TABLE) ? (this.#table().get(this.name)?.value ?? 0) : 0
  }

  #step(row: SequenceRecord | undefined, clock = readClock(this.#now)): { n: number; date: Date; period: string | null } {
    // A clock that steps back (NTP, a wrong server) must not reopen a period already numbered.
    const date = row?.at != null && row.at.getTime() > clock.getTime() ? row.at : clock
    const period = periodOf(date, this.#spec.reset)
    const n = row === undefined || row.period !== period ? 1 : row.value + 1
    if (!Number.isSafeInteger(n)) throw new InvalidStateError(`Sequence \`${shortName(this.name)}\` is exhausted (${row?.value})`)
    return { n, date, period }
  }

  #format(n: number, date: Date): string {
    const id = this.#render(n, new Date(date.getTime()))
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidArgumentError(`Expected the format function of sequence \`${shortName(this.name)}\` to return a non-empty string, got ${describe(id)}`)
    }
    return id
  }

  #table(): Table<SequenceRecord> {
    return this.#db.getTable<SequenceRecord>(TABLE)
  }
}

/**
 * Opens (creating on first use) the sequence `name`. Options given again must match the stored
 * ones; omitted options take the stored values.
 */
export function openSequence(db: Database, name: string, options?: SequenceOptions): Sequence {
  checkName(name, 'name')
  const opts = checkOptions(options, SEQUENCE_OPTIONS, 'db.sequence()')
  const given = checkSpec(name, opts)
  if (opts.now !== undefined) checkFunction(opts.now, 'now')
  systemTable(db, TABLE)
  const spec = db.transaction(() => storedSpec(db.getTable<SequenceRecord>(TABLE), given), { tables: [TABLE] })
  return new Sequence(db, spec, formatOf(db, spec, opts.format), opts.now ?? (() => new Date()))
}

/** The spec the options ask for; `undefined` fields were not given. */
function checkSpec(name: string, opts: SequenceOptions): Partial<Spec> & { id: string } {
  // No prototype: a field not given reads as undefined, whatever a library put on Object.prototype.
  const out = Object.assign(Object.create(null) as Partial<Spec>, { id: name })
  const { format } = opts
  if (typeof format === 'string') {
    const template = new Template(format)
    template.checkReset(opts.reset === undefined ? 'never' : checkReset(opts.reset), name)
    out.format = format
    out.formatFunction = null
  } else if (typeof format === 'function') {
    out.format = null
    out.formatFunction = String(format)
  } else if (format !== undefined) {
    throw new InvalidArgumentError(`Expected \`format\` to be a template string such as 'CUST{0000}' or a function (n, date) => string, got ${describe(format)}`)
  }
  if (opts.reset !== undefined) out.reset = checkReset(opts.reset)
  return out
}

/** Creates the record from the options, or checks them against the stored one. */
function storedSpec(table: Table<SequenceRecord>, given: Partial<Spec> & { id: string }): Spec {
  const row = table.get(given.id)
  if (row === undefined) {
    const spec: Spec = { id: given.id, format: given.format === undefined ? '{0}' : given.format, formatFunction: given.formatFunction ?? null, reset: given.reset ?? 'never' }
    if (spec.format !== null) new Template(spec.format).checkReset(spec.reset, spec.id)
    table.insert({ ...spec, value: 0, period: null, at: null })
    return spec
  }
  for (const field of ['format', 'formatFunction', 'reset'] as const) {
    if (given[field] === undefined || given[field] === row[field]) continue
    throw new InvalidArgumentError(
      `Sequence \`${shortName(given.id)}\` already exists with other options: ${describeSpec(row)}, not ${describeSpec({ ...row, ...given })}. ` +
        'A sequence keeps its format and reset for life: use another name for another numbering',
      { table: TABLE, key: given.id, field },
    )
  }
  return { id: row.id, format: row.format, formatFunction: row.formatFunction, reset: row.reset }
}

function describeSpec(spec: Pick<Spec, 'format' | 'formatFunction' | 'reset'>): string {
  const format = spec.format !== null ? `'${shortName(spec.format)}'` : `a function \`${shortName(String(spec.formatFunction))}\``
  return `format ${format}, reset '${spec.reset}'`
}

/** The sequence's template, or the format function this process was given for it. */
function formatOf(db: Database, spec: Spec, given: SequenceOptions['format']): Template | ((n: number, date: Date) => string) {
  if (spec.format !== null) return new Template(spec.format)
  let known = formatFunctions.get(db)
  if (known === undefined) formatFunctions.set(db, (known = new Map()))
  if (typeof given === 'function') known.set(spec.id, given)
  const fn = known.get(spec.id)
  if (fn === undefined) {
    throw new InvalidStateError(
      `Sequence \`${shortName(spec.id)}\` was created with a format function, which cannot be stored: ` +
        `open it with the same function again (db.sequence('${shortName(spec.id)}', { format })) in this process or worker`,
    )
  }
  return fn
}
