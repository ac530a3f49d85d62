import { InsufficientFundsError, InvalidStateError, RecordNotFoundError } from '../errors'
import { increment } from '../operators'
import { shortName } from '../values/describe'
import type { Value } from '../values/types'
import { formatMinor } from './money'
import { ESCROW, EXTERNAL, type LedgerTables } from './ledger-tables'
import type { EntryId, EntryKind, LedgerAccount } from './ledger-types'

/** What a posting records besides its lines. */
export interface PostingMeta {
  readonly memo: string | null
  readonly ref: string | null
  readonly detail?: Record<string, Value>
}

/**
 * Writes balanced journal entries: one header, one line per account moved, and the accounts'
 * balances — the only code that changes a balance. Runs inside the operation's transaction, so
 * a refusal anywhere (an unknown account, insufficient funds) leaves nothing behind.
 */
export class Journal {
  readonly #tables: LedgerTables
  readonly #ledger: string
  readonly #format: (minor: bigint) => string
  readonly #now: () => Date

  constructor(tables: LedgerTables, ledger: string, scale: number, currency: string, now: () => Date) {
    this.#tables = tables
    this.#ledger = ledger
    this.#format = (minor) => `${formatMinor(minor, scale)} ${currency}`
    this.#now = now
  }

  /** The entry's timestamp for this operation. */
  now(): Date {
    return this.#now()
  }

  /** Records one entry: `deltas` maps each account (or `@external`, `@escrow`) to what it gains. */
  post(kind: EntryKind, amount: bigint, deltas: ReadonlyMap<string, bigint>, meta: PostingMeta, at: Date): EntryId {
    let sum = 0n
    for (const delta of deltas.values()) sum += delta
    if (sum !== 0n) throw new InvalidStateError(`dictdb bug: a ${kind} entry of ledger \`${this.#ledger}\` does not balance (${sum})`)
    for (const [account, delta] of deltas) if (delta !== 0n && !isPseudo(account)) this.#move(account, delta)
    const entry = this.#tables.entries.insert({ kind, at, amount, memo: meta.memo, ref: meta.ref, detail: meta.detail ?? null }) as EntryId
    const lines = [...deltas].filter(([, delta]) => delta !== 0n).map(([account, delta]) => ({ entry, account, amount: delta }))
    this.#tables.lines.insert(lines)
    return entry
  }

  /** The account `id`, or `RecordNotFoundError`. */
  account(id: string): LedgerAccount {
    const row = this.#tables.accounts.get(id)
    if (row === undefined) {
      throw new RecordNotFoundError(`No account \`${shortName(String(id))}\` in ledger \`${this.#ledger}\`: open it first (openAccount or getOrCreateAccount)`, {
        table: this.#tables.names.accounts,
        key: id,
      })
    }
    return row
  }

  #move(id: string, delta: bigint): void {
    const account = this.account(id)
    if (delta < 0n && account.balance + delta < 0n && !account.allowNegative) {
      throw new InsufficientFundsError(
        `Insufficient funds in \`${shortName(id)}\`: balance ${this.#format(account.balance)}, ${this.#format(-delta)} needed`,
        { table: this.#tables.names.accounts, key: id },
      )
    }
    this.#tables.accounts.update({ balance: increment(delta) }, { id })
  }
}

/** `@external` and `@escrow` are sides of entries, not accounts with a balance record. */
export function isPseudo(account: string): boolean {
  return account === EXTERNAL || account === ESCROW
}
