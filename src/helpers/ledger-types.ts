import type { Rate } from './money'

/** The id of an escrow, returned by `ledger.hold()`. */
export type EscrowId = number
/** The number of a journal entry: one per ledger operation. */
export type EntryId = number
/** What a journal entry did. */
export type EntryKind = 'deposit' | 'withdraw' | 'transfer' | 'hold' | 'release' | 'refund'
/** Where an escrow stands: held, or settled once by a release or a refund. */
export type EscrowStatus = 'held' | 'released' | 'refunded'
/** Which escrows a release or refund settles: one id, a list of ids, or every held escrow with this `ref`. */
export type EscrowTarget = EscrowId | readonly EscrowId[] | string

/** Options of `db.ledger()`. */
export interface LedgerOptions {
  /** The ledger's name (default `'main'`): one database can keep several ledgers, one per currency. */
  name?: string
  /** The currency code shown in messages (default `'XXX'`, "no currency"). Stored. */
  currency?: string
  /** Decimals of the minor unit (default 2: amounts are cents). Stored. */
  scale?: number
  /** The clock that timestamps entries (default `() => new Date()`); for tests. Not stored. */
  now?: () => Date
}

/** Options of `openAccount` and `getOrCreateAccount`. */
export interface AccountOptions {
  /** Let the balance go below zero (default false: such a withdrawal is `InsufficientFundsError`). */
  allowNegative?: boolean
}

/** An account and its balance, in minor units. */
export interface LedgerAccount {
  id: string
  balance: bigint
  allowNegative: boolean
  openedAt: Date
}

/** Options every money-moving operation takes. */
export interface MoveOptions {
  /** Apply once: the same key again returns the first result and changes nothing. */
  idempotencyKey?: string
  /** A note kept on the journal entry. */
  memo?: string
}

/** Options of `hold`. */
export interface HoldOptions extends MoveOptions {
  /** What the escrow is for (a project id, an order): `release(ref)` and `refund(ref)` settle them together. */
  ref?: string
}

/** Options of `release`. */
export interface ReleaseOptions extends MoveOptions {
  /** The account credited with the escrowed amounts, less commission and fees. */
  to: string
  /** Commission taken on each escrow, rounded half-up to the minor unit (default 0). */
  commissionRate?: Rate
  /** Fees taken on each escrow, rounded half-up to the minor unit (default 0). */
  feeRate?: Rate
  /** Where commission goes (default `'_commission'`, opened on first use). */
  commissionAccount?: string
  /** Where fees go (default `'_fees'`, opened on first use). */
  feeAccount?: string
}

/** What a release did, in minor units: `net = amount - commission - fees` went to `to`. */
export interface ReleaseResult {
  entry: EntryId
  escrows: number
  amount: bigint
  commission: bigint
  fees: bigint
  net: bigint
}

/** What a refund did: `amount` went back to the accounts the escrows were held from. */
export interface RefundResult {
  entry: EntryId
  escrows: number
  amount: bigint
}

/** One line of an account's statement: what an entry moved in or (negative) out of it. */
export interface LedgerEntry {
  entry: EntryId
  kind: EntryKind
  account: string
  amount: bigint
  at: Date
  memo: string | null
  ref: string | null
}

/** An escrow: an amount taken out of `account`'s balance and held until released or refunded. */
export interface Escrow {
  id: EscrowId
  account: string
  amount: bigint
  ref: string | null
  status: EscrowStatus
  heldAt: Date
  /** The entry that held it. */
  heldIn: EntryId
  /** The account a release paid (null while held, or when refunded). */
  to: string | null
  /** The entry that released or refunded it. */
  settledIn: EntryId | null
  settledAt: Date | null
}

/** Which escrows `ledger.escrows(filter)` lists: every given field must be equal. */
export interface EscrowFilter {
  account?: string
  ref?: string
  status?: EscrowStatus
  to?: string
}

/**
 * What `audit()` found. `ok` is true when `problems` is empty. `totals` (minor units) is a
 * non-enumerable extra: the report compares equal to `{ ok, problems }`, as SPEC gives it.
 */
export interface AuditReport {
  ok: boolean
  problems: string[]
  totals: { deposits: bigint; withdrawals: bigint; balances: bigint; held: bigint }
}
