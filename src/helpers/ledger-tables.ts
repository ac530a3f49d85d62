import type { Database } from '../database'
import { InvalidArgumentError, describe } from '../errors'
import type { Table } from '../table'
import type { Value } from '../values/types'
import { checkScale } from './money'
import type { EntryId, EntryKind, Escrow, LedgerAccount } from './ledger-types'
import { systemTable } from './system-table'
import { shortName } from '../values/describe'

/** Money entering or leaving the ledger (deposits, withdrawals): the other side of their lines. */
export const EXTERNAL = '@external'
/** Money held in escrow: a hold moves it here, a release or refund moves it out. */
export const ESCROW = '@escrow'

/** A journal entry's header; its lines are in the lines table. */
export interface EntryRecord {
  id?: EntryId
  kind: EntryKind
  at: Date
  /** The gross amount the operation moved. */
  amount: bigint
  memo: string | null
  ref: string | null
  /** Operation details (a release's rates and accounts), for the record. */
  detail: Record<string, Value> | null
}

/** One line of a journal entry: `amount` added to (or, negative, taken from) `account`. */
export interface LineRecord {
  id?: number
  entry: EntryId
  account: string
  amount: bigint
}

/** An idempotency key and the first result it gave. */
export interface KeyRecord {
  id: string
  /** What the key was first used for; the same key for another operation is an error. */
  operation: string
  result: Value
}

/** A ledger's stored settings: one record of `_ledgers`. */
interface LedgerRecord {
  id: string
  currency: string
  scale: number
}

const REGISTRY = '_ledgers'
const LEDGER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/

/**
 * The system tables of one ledger, `_ledger_<name>_accounts|escrows|entries|lines|keys`, reached
 * through the public table API only. Fetched by name at each use, so a table re-created after a
 * rolled-back transaction is found again.
 */
export class LedgerTables {
  readonly names: { readonly accounts: string; readonly escrows: string; readonly entries: string; readonly lines: string; readonly keys: string }
  /** Every table name, for `db.transaction(fn, { tables })`: locked up front, in a fixed order. */
  readonly all: string[]
  readonly #db: Database

  constructor(db: Database, name: string) {
    this.#db = db
    const prefix = `_ledger_${name}_`
    this.names = { accounts: `${prefix}accounts`, escrows: `${prefix}escrows`, entries: `${prefix}entries`, lines: `${prefix}lines`, keys: `${prefix}keys` }
    this.all = Object.values(this.names)
  }

  /** Creates the tables that are missing (with their indexes). */
  ensure(): void {
    systemTable(this.#db, this.names.accounts)
    systemTable(this.#db, this.names.escrows, { indexes: [{ field: 'ref' }, { field: 'account' }] })
    systemTable(this.#db, this.names.entries)
    systemTable(this.#db, this.names.lines, { indexes: [{ field: 'account' }] })
    systemTable(this.#db, this.names.keys)
  }

  get accounts(): Table<LedgerAccount> {
    return this.#db.getTable<LedgerAccount>(this.names.accounts)
  }
  get escrows(): Table<Escrow> {
    return this.#db.getTable<Escrow>(this.names.escrows)
  }
  get entries(): Table<EntryRecord> {
    return this.#db.getTable<EntryRecord>(this.names.entries)
  }
  get lines(): Table<LineRecord> {
    return this.#db.getTable<LineRecord>(this.names.lines)
  }
  get keys(): Table<KeyRecord> {
    return this.#db.getTable<KeyRecord>(this.names.keys)
  }
}

/**
 * Registers the ledger `name` in `_ledgers`, or checks the given settings against the stored
 * ones: a ledger keeps its currency and scale for life.
 */
export function registerLedger(db: Database, name: unknown, currency: unknown, scale: unknown): LedgerRecord {
  if (typeof name !== 'string' || !LEDGER_NAME.test(name)) {
    throw new InvalidArgumentError(`Expected the ledger \`name\` to be 1 to 64 letters, digits or '-', got ${describe(name)}`)
  }
  if (currency !== undefined && (typeof currency !== 'string' || currency.length === 0)) {
    throw new InvalidArgumentError(`Expected \`currency\` to be a non-empty string such as 'EUR', got ${describe(currency)}`)
  }
  if (scale !== undefined) checkScale(scale)
  systemTable(db, REGISTRY)
  return db.transaction(
    () => {
      const registry = db.getTable<LedgerRecord>(REGISTRY)
      const { record } = registry.getOrCreate({ id: name }, { currency: (currency as string) ?? 'XXX', scale: (scale as number) ?? 2 })
      if ((currency !== undefined && currency !== record.currency) || (scale !== undefined && scale !== record.scale)) {
        throw new InvalidArgumentError(
          `Ledger \`${name}\` already exists with currency '${shortName(record.currency)}' and scale ${record.scale}, not ` +
            `'${shortName((currency as string) ?? record.currency)}' and ${(scale as number) ?? record.scale}: a ledger keeps them for life (open another ledger with { name })`,
          { table: REGISTRY, key: name },
        )
      }
      return record
    },
    { tables: [REGISTRY] },
  )
}
