import type { Database, NotAPromise } from '../database'
import { DuplicateKeyError, InvalidArgumentError, describe, readingInput } from '../errors'
import { checkBoolean, checkFunction, checkOptions } from '../options'
import type { Value } from '../values/types'
import { audit } from './ledger-audit'
import { heldEscrows, refund, release, type ReleasePlan } from './ledger-escrow'
import { Journal, isPseudo, type PostingMeta } from './ledger-journal'
import { ESCROW, EXTERNAL, LedgerTables, registerLedger } from './ledger-tables'
import type {
  AccountOptions, AuditReport, EntryId, Escrow, EscrowFilter, EscrowId, EscrowTarget, HoldOptions, LedgerAccount,
  LedgerEntry, LedgerOptions, MoveOptions, RefundResult, ReleaseOptions, ReleaseResult,
} from './ledger-types'
import { formatMinor, toMinor, toPositiveMinor, toRatio, type Amount } from './money'
import { readClock } from './sequence-format'
import { shortName } from '../values/describe'

const MOVE_OPTIONS = ['idempotencyKey', 'memo'] as const
const RELEASE_OPTIONS = ['to', 'commissionRate', 'feeRate', 'commissionAccount', 'feeAccount', ...MOVE_OPTIONS] as const
const ESCROW_STATUSES = ['held', 'released', 'refunded']

/**
 * Wallets with escrow, kept as a double-entry ledger in system tables (`_ledger_<name>_*`).
 * Amounts are exact (minor units as `bigint` inside; numbers, bigints or decimal strings in);
 * every operation is one transaction writing one balanced entry, all or nothing.
 *
 * @example
 * ```ts
 * const ledger = db.ledger({ currency: 'EUR', scale: 2 })
 * ledger.openAccount('alice')
 * ledger.openAccount('owner')
 * ledger.deposit('alice', '100.00')
 * const escrow = ledger.hold('alice', '40.00', { ref: 'project-7' })
 * ledger.release('project-7', { to: 'owner', commissionRate: '0.05' })
 * ledger.balance('owner')  // 3800n (38.00 EUR: 40.00 less 5% commission)
 * ```
 */
export class Ledger {
  /** The ledger's name (`'main'` unless given). */
  readonly name: string
  /** The currency code. */
  readonly currency: string
  /** Decimals of the minor unit: balances are integers of 10^-scale currency units. */
  readonly scale: number
  readonly #db: Database
  readonly #tables: LedgerTables
  readonly #journal: Journal

  /** @internal Ledgers are opened with `db.ledger(options)`. */
  constructor(db: Database, settings: { id: string; currency: string; scale: number }, now: () => Date) {
    this.#db = db
    this.name = settings.id
    this.currency = settings.currency
    this.scale = settings.scale
    this.#tables = new LedgerTables(db, this.name)
    this.#tables.ensure()
    this.#journal = new Journal(this.#tables, this.name, this.scale, this.currency, () => readClock(now))
  }

  /** Opens an account at zero; `DuplicateKeyError` if it exists. */
  openAccount(id: string, options?: AccountOptions): LedgerAccount {
    checkAccountId(id)
    const allowNegative = checkBoolean(checkOptions(options, ['allowNegative'], 'openAccount()').allowNegative, 'allowNegative') ?? false
    return this.#transaction(() => {
      if (this.#tables.accounts.get(id) !== undefined) {
        throw new DuplicateKeyError(`Account \`${shortName(id)}\` already exists in ledger \`${this.name}\``, { table: this.#tables.names.accounts, key: id })
      }
      const account: LedgerAccount = { id, balance: 0n, allowNegative, openedAt: this.#journal.now() }
      this.#tables.accounts.insert(account)
      return account
    })
  }

  /** The account, opened at zero if missing — atomically, however many callers race for it. */
  getOrCreateAccount(id: string, options?: AccountOptions): { account: LedgerAccount; created: boolean } {
    checkAccountId(id)
    const allowNegative = checkBoolean(checkOptions(options, ['allowNegative'], 'getOrCreateAccount()').allowNegative, 'allowNegative') ?? false
    this.#tables.ensure()
    const { record, created } = this.#tables.accounts.getOrCreate({ id }, { balance: 0n, allowNegative, openedAt: this.#journal.now() })
    return { account: record, created }
  }

  /** Whether the account exists. */
  hasAccount(id: string): boolean {
    this.#tables.ensure()
    return typeof id === 'string' && this.#tables.accounts.get(id) !== undefined
  }

  /** Money entering the ledger into `account`. Returns the entry number. */
  deposit(account: string, amount: Amount, options?: MoveOptions): EntryId {
    checkAccountId(account)
    const minor = toPositiveMinor(amount, this.scale)
    const meta = moveMeta(options, 'deposit()')
    return this.#operation(`deposit of ${this.format(minor)} into \`${account}\``, options, () =>
      this.#journal.post('deposit', minor, deltas([EXTERNAL, -minor], [account, minor]), meta, this.#journal.now()),
    )
  }

  /** Money leaving the ledger from `account`; `InsufficientFundsError` beyond its balance. */
  withdraw(account: string, amount: Amount, options?: MoveOptions): EntryId {
    checkAccountId(account)
    const minor = toPositiveMinor(amount, this.scale)
    const meta = moveMeta(options, 'withdraw()')
    return this.#operation(`withdrawal of ${this.format(minor)} from \`${account}\``, options, () =>
      this.#journal.post('withdraw', minor, deltas([account, -minor], [EXTERNAL, minor]), meta, this.#journal.now()),
    )
  }

  /** Moves money between two accounts; `InsufficientFundsError` beyond `from`'s balance. */
  transfer(from: string, to: string, amount: Amount, options?: MoveOptions): EntryId {
    checkAccountId(from, 'from')
    checkAccountId(to, 'to')
    if (from === to) throw new InvalidArgumentError(`A transfer needs two different accounts, got \`${shortName(from)}\` twice`)
    const minor = toPositiveMinor(amount, this.scale)
    const meta = moveMeta(options, 'transfer()')
    return this.#operation(`transfer of ${this.format(minor)} from \`${from}\` to \`${to}\``, options, () =>
      this.#journal.post('transfer', minor, deltas([from, -minor], [to, minor]), meta, this.#journal.now()),
    )
  }

  /** Takes `amount` out of `from`'s balance into escrow until released or refunded. */
  hold(from: string, amount: Amount, options?: HoldOptions): EscrowId {
    checkAccountId(from, 'from')
    const minor = toPositiveMinor(amount, this.scale)
    const opts = checkOptions(options, ['ref', ...MOVE_OPTIONS], 'hold()')
    const meta = { memo: checkText(opts.memo, 'memo'), ref: checkText(opts.ref, 'ref') }
    const what = `hold of ${this.format(minor)} from \`${from}\`${meta.ref === null ? '' : ` for '${meta.ref}'`}`
    return this.#operation(what, options, () => {
      const heldAt = this.#journal.now()
      const heldIn = this.#journal.post('hold', minor, deltas([from, -minor], [ESCROW, minor]), meta, heldAt)
      const escrow: Omit<Escrow, 'id'> = { account: from, amount: minor, ref: meta.ref, status: 'held', heldAt, heldIn, to: null, settledIn: null, settledAt: null }
      return this.#tables.escrows.insert(escrow as Escrow) as EscrowId
    })
  }

  /**
   * Releases escrows — one id, a list, or every escrow held with a ref — to `options.to`, less
   * commission and fees computed per escrow (rounded half-up to the minor unit) and credited to
   * `commissionAccount` (default `'_commission'`) and `feeAccount` (default `'_fees'`).
   * One pass and one transaction, whatever the count: all released, or none.
   */
  release(target: EscrowTarget, options: ReleaseOptions): ReleaseResult {
    const opts = checkOptions(options, RELEASE_OPTIONS, 'release()')
    if (options === undefined) throw new InvalidArgumentError('release() needs options with `to`, the account to pay')
    const plan = releasePlan(opts)
    const meta = { memo: checkText(opts.memo, 'memo'), ref: typeof target === 'string' ? target : null }
    const what = `release of ${readingInput('the escrows to release', () => describeTarget(target))} to \`${plan.to}\` (commission ${plan.commission.rate.text}, fees ${plan.fee.rate.text})`
    return this.#operation(what, options, () => {
      const escrows = heldEscrows(this.#tables, target)
      this.#journal.account(plan.to)
      if (opts.commissionRate !== undefined) this.getOrCreateAccount(plan.commission.account)
      if (opts.feeRate !== undefined) this.getOrCreateAccount(plan.fee.account)
      return release(this.#journal, this.#tables, escrows, plan, meta)
    })
  }

  /** Gives escrows — one id, a list, or every escrow held with a ref — back to the accounts they came from. */
  refund(target: EscrowTarget, options?: MoveOptions): RefundResult {
    const meta: PostingMeta = { ...moveMeta(options, 'refund()'), ref: typeof target === 'string' ? target : null }
    return this.#operation(`refund of ${readingInput('the escrows to refund', () => describeTarget(target))}`, options, () => refund(this.#journal, this.#tables, heldEscrows(this.#tables, target), meta))
  }

  /** The account's balance in minor units (what is held in escrow is not in it). */
  balance(account: string): bigint {
    checkAccountId(account)
    this.#tables.ensure()
    return this.#journal.account(account).balance
  }

  /** The account's statement: every entry that moved money in (positive) or out of it, oldest first. */
  entries(account: string): LedgerEntry[] {
    if (typeof account !== 'string' || !isPseudo(account)) checkAccountId(account)
    this.#tables.ensure()
    return this.#db.transaction(() => {
      if (!isPseudo(account)) this.#journal.account(account)
      const headers = new Map<EntryId, { kind: LedgerEntry['kind']; at: Date; memo: string | null; ref: string | null }>()
      return this.#tables.lines.select({ where: { account }, copy: false }).map((line) => {
        let header = headers.get(line.entry)
        if (header === undefined) headers.set(line.entry, (header = this.#tables.entries.get(line.entry)!))
        return { entry: line.entry, kind: header.kind, account, amount: line.amount, at: new Date(header.at.getTime()), memo: header.memo, ref: header.ref }
      })
    })
  }

  /** The escrows matching `filter` (every given field equal), oldest first. */
  escrows(filter?: EscrowFilter): Escrow[] {
    const where = checkOptions(filter, ['account', 'ref', 'status', 'to'], 'escrows()')
    for (const [field, value] of Object.entries(where)) checkText(value, field)
    if (where.status !== undefined && !ESCROW_STATUSES.includes(where.status)) {
      throw new InvalidArgumentError(`Expected \`status\` to be 'held', 'released' or 'refunded', got ${describe(where.status)}`)
    }
    this.#tables.ensure()
    return this.#tables.escrows.select({ where: where as Partial<Escrow> })
  }

  /** Checks the ledger's invariants; `ok` with no `problems` when the books are right. */
  audit(): AuditReport {
    return audit(this.#db, this.#tables, (minor) => `${this.format(minor)} ${this.currency}`)
  }

  /** An amount in minor units: `parse('10.50')` is `1050n` at scale 2. */
  parse(amount: Amount): bigint {
    return toMinor(amount, this.scale)
  }

  /** Minor units as a decimal string: `format(1050n)` is `'10.50'` at scale 2. */
  format(minor: bigint | number): string {
    if (typeof minor === 'number' && Number.isSafeInteger(minor)) return formatMinor(BigInt(minor), this.scale)
    if (typeof minor !== 'bigint') throw new InvalidArgumentError(`Expected an amount in minor units (a bigint or a safe integer), got ${describe(minor)}`)
    return formatMinor(minor, this.scale)
  }

  /** Runs `body` as one transaction over the ledger's tables, locked up front in a fixed order. */
  #transaction<R>(body: () => R): R {
    this.#tables.ensure()
    // `body` is one of the ledger's own synchronous operations.
    return this.#db.transaction<R>(body as () => R & NotAPromise<R>, { tables: this.#tables.all })
  }

  /**
   * `#transaction`, applied once per idempotency key: the same key again returns the first result.
   * `what` names the operation whole (it is compared): only the message shows the start of it.
   */
  #operation<R>(what: string, options: MoveOptions | undefined, body: () => R): R {
    const key = checkText(options?.idempotencyKey, 'idempotencyKey')
    return this.#transaction(() => {
      if (key !== null) {
        const first = this.#tables.keys.get(key)
        if (first !== undefined) {
          if (first.operation === what) return first.result as R
          throw new InvalidArgumentError(`Idempotency key '${shortName(key)}' was first used for a ${shortName(first.operation, 90)}, not a ${shortName(what, 90)}`, { table: this.#tables.names.keys, key })
        }
      }
      const result = body()
      if (key !== null) this.#tables.keys.insert({ id: key, operation: what, result: result as Value })
      return result
    })
  }
}

/** Opens (registering on first use) the ledger of `options.name`, default `'main'`. */
export function openLedger(db: Database, options?: LedgerOptions): Ledger {
  const opts = checkOptions(options, ['name', 'currency', 'scale', 'now'], 'db.ledger()')
  if (opts.now !== undefined) checkFunction(opts.now, 'now')
  const settings = registerLedger(db, opts.name ?? 'main', opts.currency, opts.scale)
  return new Ledger(db, settings, opts.now ?? (() => new Date()))
}

function releasePlan(opts: Partial<ReleaseOptions>): ReleasePlan {
  const to = checkAccountId(opts.to, 'to')
  return {
    to,
    commission: { rate: toRatio(opts.commissionRate ?? 0, 'commissionRate'), account: checkAccountId(opts.commissionAccount ?? '_commission', 'commissionAccount') },
    fee: { rate: toRatio(opts.feeRate ?? 0, 'feeRate'), account: checkAccountId(opts.feeAccount ?? '_fees', 'feeAccount') },
  }
}

function moveMeta(options: MoveOptions | undefined, what: string): PostingMeta {
  const opts = checkOptions(options, MOVE_OPTIONS, what)
  return { memo: checkText(opts.memo, 'memo'), ref: null }
}

function deltas(...moves: [string, bigint][]): Map<string, bigint> {
  return new Map(moves)
}

function checkAccountId(id: unknown, name = 'account'): string {
  if (typeof id !== 'string' || id.length === 0 || id.startsWith('@')) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be an account id (a non-empty string not starting with '@'), got ${describe(id)}`)
  }
  return id
}

function checkText(value: unknown, name: string): string | null {
  if (value === undefined) return null
  if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError(`Expected \`${name}\` to be a non-empty string, got ${describe(value)}`)
  return value
}

/** A short, exact description of a release or refund target, for idempotency checks. */
function describeTarget(target: EscrowTarget): string {
  if (typeof target === 'string') return `ref '${target}'`
  if (!Array.isArray(target)) return `escrow ${idText(target)}`
  let hash = 0x811c9dc5
  for (const id of target as readonly unknown[]) hash = Math.imul(hash ^ (typeof id === 'number' ? id : 0), 0x01000193) >>> 0
  return `${target.length} escrow(s) [${idText(target[0])}…${idText(target[target.length - 1])} #${hash.toString(16)}]`
}

/** An escrow id as text; anything else (a caller's mistake, refused later) without calling its toString. */
function idText(id: unknown): string {
  return typeof id === 'number' ? String(id) : describe(id)
}
