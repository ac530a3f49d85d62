import { InvalidArgumentError, InvalidStateError, RecordNotFoundError, describe } from '../errors'
import type { Condition } from '../query/condition'
import { Field } from '../query/field'
import { shortName } from '../values/describe'
import { applyRate, type Ratio } from './money'
import type { Journal, PostingMeta } from './ledger-journal'
import { ESCROW, type LedgerTables } from './ledger-tables'
import type { Escrow, EscrowId, EscrowTarget, RefundResult, ReleaseResult } from './ledger-types'

/** A checked release: where the money goes and what is taken on each escrow. */
export interface ReleasePlan {
  readonly to: string
  readonly commission: { readonly rate: Ratio; readonly account: string }
  readonly fee: { readonly rate: Ratio; readonly account: string }
}

const ID_FIELD = new Field('id')

/** The escrows a release or refund settles (frozen records), and a `where` that selects exactly them. */
export interface Settling {
  readonly escrows: readonly Escrow[]
  readonly where: Condition | Partial<Escrow>
}

/**
 * The held escrows a release or refund settles, in one indexed read.
 * Ids: each must exist, be listed once and still be held. A ref: every escrow it holds.
 */
export function heldEscrows(tables: LedgerTables, target: EscrowTarget): Settling {
  const escrows = tables.escrows
  if (typeof target === 'string') {
    const rows = escrows.select({ where: { ref: target }, copy: false })
    const held = rows.filter((e) => e.status === 'held')
    if (held.length === 0) {
      const settled = rows.length === 0 ? '' : ` (its ${rows.length} escrow(s) are already settled)`
      throw new RecordNotFoundError(`No escrow is held with ref '${shortName(target)}'${settled}`, { table: tables.names.escrows, field: 'ref' })
    }
    return { escrows: held, where: { ref: target, status: 'held' } }
  }
  const ids = checkIds(target)
  const where = ID_FIELD.isIn(ids)
  const found = new Map(escrows.select({ where, copy: false }).map((e) => [e.id, e]))
  const held = ids.map((id) => {
    const escrow = found.get(id)
    if (escrow === undefined) throw new RecordNotFoundError(`No escrow ${id}`, { table: tables.names.escrows, key: id })
    if (escrow.status !== 'held') {
      throw new InvalidStateError(`Escrow ${id} was already ${escrow.status} (entry ${escrow.settledIn}): an escrow is settled once`, {
        table: tables.names.escrows,
        key: id,
      })
    }
    return escrow
  })
  return { escrows: held, where }
}

function checkIds(target: EscrowId | readonly EscrowId[]): EscrowId[] {
  const ids = Array.isArray(target) ? (target as readonly unknown[]) : [target]
  if (ids.length === 0) throw new InvalidArgumentError('Expected at least one escrow id, got an empty list')
  const seen = new Set<EscrowId>()
  for (const id of ids) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
      throw new InvalidArgumentError(`Expected an escrow id (a positive integer from hold()), a list of them, or a ref string, got ${describe(id)}`)
    }
    if (seen.has(id)) throw new InvalidArgumentError(`Escrow ${id} is listed twice: an escrow is settled once`, { key: id })
    seen.add(id)
  }
  return ids as EscrowId[]
}

/**
 * Releases `escrows` in one pass: commission and fees rounded half-up per escrow, one balanced
 * entry (escrow → recipient, commission, fees), and one update call that marks every escrow
 * settled (one change set, whatever the count). All or nothing.
 */
export function release(journal: Journal, tables: LedgerTables, { escrows, where }: Settling, plan: ReleasePlan, meta: PostingMeta): ReleaseResult {
  let amount = 0n
  let commission = 0n
  let fees = 0n
  for (const escrow of escrows) {
    const c = applyRate(escrow.amount, plan.commission.rate)
    const f = applyRate(escrow.amount, plan.fee.rate)
    if (c + f > escrow.amount) {
      throw new InvalidArgumentError(
        `Commission (${c}) and fees (${f}) would exceed escrow ${escrow.id} (${escrow.amount}, in minor units): lower the rates`,
        { key: escrow.id },
      )
    }
    amount += escrow.amount
    commission += c
    fees += f
  }
  const net = amount - commission - fees
  const deltas = new Map<string, bigint>([[ESCROW, -amount]])
  for (const [account, delta] of [[plan.to, net], [plan.commission.account, commission], [plan.fee.account, fees]] as const) {
    deltas.set(account, (deltas.get(account) ?? 0n) + delta)
  }
  const detail = { escrows: escrows.length, to: plan.to, commissionRate: plan.commission.rate.text, feeRate: plan.fee.rate.text, commissionAccount: plan.commission.account, feeAccount: plan.fee.account }
  const at = journal.now()
  const entry = journal.post('release', amount, deltas, { ...meta, detail }, at)
  tables.escrows.update({ status: 'released', to: plan.to, settledIn: entry, settledAt: at }, where)
  return { entry, escrows: escrows.length, amount, commission, fees, net }
}

/** Gives `escrows` back to the accounts they were held from, in one entry. */
export function refund(journal: Journal, tables: LedgerTables, { escrows, where }: Settling, meta: PostingMeta): RefundResult {
  let amount = 0n
  const deltas = new Map<string, bigint>()
  for (const escrow of escrows) {
    amount += escrow.amount
    deltas.set(escrow.account, (deltas.get(escrow.account) ?? 0n) + escrow.amount)
  }
  deltas.set(ESCROW, -amount)
  const at = journal.now()
  const entry = journal.post('refund', amount, deltas, { ...meta, detail: { escrows: escrows.length } }, at)
  tables.escrows.update({ status: 'refunded', to: null, settledIn: entry, settledAt: at }, where)
  return { entry, escrows: escrows.length, amount }
}
