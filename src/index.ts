export { Database } from './database'
export type { AttachOptions, CreateTableOptions, DatabaseOptions, Logger, TransactionOptions } from './database'
export type { DatabaseHandle } from './shared/connect'
export { Table } from './table'
export type { Changes, QueryPlan, UpsertResult } from './table'
export { Condition, and, or, not } from './query/condition'
export { Field } from './query/field'
export type { ConditionNode } from './query/ast'
export type { Where } from './query/where'
export type { OrderKey, SelectOptions } from './query/select'
export { count, sum, avg, min, max } from './query/aggregate'
export type { Aggregation, AggregateOptions } from './query/aggregate'
export { Increment, increment } from './operators'
export type { FieldSchema, FieldType, Schema, StandardSchemaV1, TypeSchema } from './schema'
export type { IndexSpec, IndexType } from './indexes/types'
export type { RWLock, LockMode, AcquireOptions } from './locks/types'
export type { Commit, DatabaseState, Op, RecordChange, SchemaChange, TableDefinition, TableState } from './storage/change'
export type { CommitListener } from './txn/transactions'
export type { Key, Value } from './values/types'
export {
  DictDBError,
  DuplicateKeyError,
  DuplicateTableError,
  RecordNotFoundError,
  TableNotFoundError,
  SchemaValidationError,
  LockTimeoutError,
  DeadlockError,
  InsufficientFundsError,
  CorruptFileError,
  InvalidArgumentError,
  InvalidStateError,
} from './errors'
