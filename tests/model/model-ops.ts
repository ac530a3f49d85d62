// One operation applied to the reference model, shared by the runner (which compares it with the
// engine) and the generator statistics.
import { modelWhere } from './conditions'
import type { Op } from './ops'
import type { Model } from './reference'

/** An operation on records: neither a transaction nor index DDL. */
export type RecordOp = Exclude<Op, { kind: 'txn' | 'createIndex' | 'dropIndex' }>

/** What the model gives for `op`, as it gives it. */
export function modelCall(m: Model, op: RecordOp): unknown {
  switch (op.kind) {
    case 'insert':
      return m.insert(op.record)
    case 'insertMany':
      return m.insertMany(op.records)
    case 'upsert':
      return m.upsert(op.record, op.onConflict ?? 'update') // SPEC: upsert defaults to 'update'
    case 'update':
      return m.update(op.changes, modelWhere(op.where))
    case 'delete':
      return m.delete(modelWhere(op.where))
    case 'select':
      return m.select({ ...op.q, where: modelWhere(op.q.where) })
    case 'count':
      return m.count(modelWhere(op.where))
    case 'aggregate':
      return m.aggregate(op.aggs, modelWhere(op.where), op.groupBy)
    case 'get':
      return m.get(op.key)
  }
}
