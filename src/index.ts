export { Database } from './database'
export type { AttachOptions, CreateTableOptions, DatabaseOptions, Logger, NotAPromise, TransactionOptions } from './database'
export type { DatabaseHandle } from './shared/connect'
export { Table } from './table'
export type { AggregateRow, AggregateValue, Changes, GroupRow, KeyOf, Projection, QueryPlan, UpsertResult } from './table-types'
export { LiveView } from './live/view'
export type { WatchCallback, WatchDiff } from './live/view'
export { ChangeFeed, ChangeFeedOverflowError } from './live/changes'
export type { ChangesOptions } from './live/changes'
export type { TtlOption, TtlRule } from './live/ttl'
export { Condition, and, or, not } from './query/condition'
export { Field } from './query/field'
export type { Element, Operand } from './query/field'
export type { ConditionNode } from './query/ast'
export type { Where } from './query/where'
export type { OrderKey, SelectOptions } from './query/select'
export { count, sum, avg, min, max } from './query/aggregate'
export type { AggregateFn, Aggregation, AggregateOptions } from './query/aggregate'
export { Increment, increment } from './operators'
export type { FieldSchema, FieldType, Schema, StandardSchemaV1, TypeSchema } from './schema'
export type { IndexSpec, IndexType } from './indexes/types'
export type { RWLock, LockMode, AcquireOptions } from './locks/types'
export type { Commit, DatabaseState, Op, RecordChange, SchemaChange, TableDefinition, TableState } from './storage/change'
export type { CommitListener } from './txn/transactions'
export type { DatabaseStats, LockStats, SharedLogStats } from './txn/stats'
export type { Key, Value } from './values/types'
export { Sequence } from './helpers/sequence'
export type { SequenceOptions } from './helpers/sequence'
export type { FormatFunction, ResetPeriod } from './helpers/sequence-format'
export { Counter } from './helpers/counter'
export { Ledger } from './helpers/ledger'
export type {
  AccountOptions,
  AuditReport,
  EntryId,
  EntryKind,
  Escrow,
  EscrowFilter,
  EscrowId,
  EscrowStatus,
  EscrowTarget,
  HoldOptions,
  LedgerAccount,
  LedgerEntry,
  LedgerOptions,
  MoveOptions,
  RefundResult,
  ReleaseOptions,
  ReleaseResult,
} from './helpers/ledger-types'
export type { Amount, Rate } from './helpers/money'
export { BackupManager } from './persist/backup/manager'
export type { BackupOptions, BackupResult } from './persist/backup/options'
export type { Fork, LostFile, RestoredFile, RestoreOptions, RestoreReport } from './persist/backup/restore'
export type { LoadOptions, SaveOptions } from './persist/database-file'
export type { ImportCsvOptions } from './persist/csv-import'
export type { ExportCsvOptions } from './persist/csv-export'
export type { Format as FileFormat } from './persist/document'
export { FileSystemError } from './persist/errors'
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
  ConnectionError,
} from './errors'
