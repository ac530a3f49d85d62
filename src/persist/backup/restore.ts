import { Database, type DatabaseOptions, type Logger } from '../../database'
import { CorruptFileError, DictDBError, InvalidArgumentError, describe } from '../../errors'
import { checkLogger, checkOptions } from '../../options'
import type { Schema } from '../../schema'
import { checkSchemasOption, type SchemaSource } from '../catalog'
import { fileError, FileSystemError } from '../errors'
import { io } from '../fs'
import { DatabaseBuilder, type LoadOptions } from '../database-file'
import { buildDatabase } from '../ingest'
import { readDocumentSync, readHeaderSync } from '../read-file'
import { listBackups, type BackupFile } from './files'
import { applyItem, checkItem, type CheckedItem } from './journal'
import { preview, shortName, shortPath } from '../../values/describe'

/** Options of `BackupManager.restore()`: the new database's options, and validators to re-attach. */
export type RestoreOptions = Omit<LoadOptions, 'format'>

/** A backup file a restore applied. */
export interface RestoredFile {
  readonly file: string
  readonly sequence: number
  /** Ops replayed (deltas), records loaded (the full backup). */
  readonly count: number
}

/** A backup file whose changes are not in the restored database, and why. */
export interface LostFile {
  readonly file: string
  readonly sequence: number
  readonly reason: string
}

/** What `BackupManager.restoreWithReport()` rebuilt, from which files, and what it could not. */
export interface RestoreReport {
  readonly db: Database
  /** The full backup the database starts from. */
  readonly full: RestoredFile
  /** The deltas replayed on it, in order. */
  readonly applied: readonly RestoredFile[]
  /** Later backup files that could not be used: their changes are missing. Empty when complete. */
  readonly lost: readonly LostFile[]
  /** The sequence number of the last file applied: the point in time restored. */
  readonly sequence: number
  /**
   * Sequence numbers held by more than one file. One BackupManager never reuses a number: two
   * wrote into the folder at once (before folders were locked), so its chain is forked and the
   * restore holds one writer's changes only. Empty for a sound folder.
   */
  readonly forks: readonly Fork[]
}

/** Files of a backup folder that share a sequence number: two writers forked its chain. */
export interface Fork {
  readonly sequence: number
  readonly files: readonly string[]
}

const OPTIONS = ['schemas', 'shared', 'lockTimeoutMs', 'logger'] as const

interface DeltaInfo {
  readonly file: BackupFile
  readonly base: number
  readonly previous: number
}

/**
 * Rebuilds the latest state a backup directory can give: the generation (full backup + its
 * chain of deltas) that reaches the highest sequence number, replayed up to its first missing
 * or corrupt delta. A corrupt newest full falls back to the previous generation. Whatever is
 * left out is listed in `lost` and reported as a warning through the logger.
 */
export function restoreWithReport(dir: string, options?: RestoreOptions): RestoreReport {
  if (typeof dir !== 'string' || dir === '') throw new InvalidArgumentError(`Expected \`dir\` to be a non-empty string, got ${describe(dir)}`)
  const { schemas, ...dbOptions } = checkOptions(options, OPTIONS, 'BackupManager.restore()')
  const logger: Logger = dbOptions.logger === undefined ? console : checkLogger(dbOptions.logger)
  checkDirectory(dir)
  const files = listBackups(dir)
  const fulls = files.filter((f) => f.kind === 'full')
  if (fulls.length === 0) throw new CorruptFileError(`\`${shortPath(dir)}\` holds no full backup (files named full-<sequence>.json or .bin)`)

  const problems = new Map<number, string>()
  const deltas = readDeltaHeaders(files, problems)
  const source: SchemaSource = { schemas, warn: (m) => logger.warn(m) }
  const best = bestGeneration(fulls, deltas, source, problems, dbOptions)
  if (best === null) {
    throw new CorruptFileError(`\`${shortPath(dir)}\` holds no usable full backup: ${whyUnusable(fulls, problems)}`)
  }
  checkSchemasOption(schemas, best.db.listTables(), `the backup in \`${shortPath(dir)}\``)
  const { db, full, count, applied, last } = best
  const forks = forksOf(files)
  const lost = lostFiles(files, last, applied, full, deltas, problems, forks)
  warnGaps(logger, dir, forks, lost, applied.length > 0 ? (applied[applied.length - 1] as RestoredFile).file : full.name)
  return { db, full: { file: full.name, sequence: full.sequence, count }, applied, lost, sequence: last, forks }
}

/** Warns of what a restore could not give: a forked chain, files after `lastFile` left out. */
function warnGaps(logger: Logger, dir: string, forks: readonly Fork[], lost: readonly LostFile[], lastFile: string): void {
  if (forks.length > 0) {
    logger.warn(
      `dictdb: the backups in \`${shortPath(dir)}\` are forked: two BackupManagers wrote into the folder at once (${forks.map((f) => f.files.join(' and ')).join('; ')}); ` +
        'the restore holds the changes of one of them only',
    )
  }
  if (lost.length > 0) {
    logger.warn(
      `dictdb: the restore of \`${shortPath(dir)}\` stops at ${lastFile}; ` +
        `${lost.length} later backup file(s) could not be applied and their changes are missing: ` +
        lost.map((l) => `${l.file} (${l.reason})`).join('; '),
    )
  }
}

/**
 * The generation that restores furthest, or null when none can be read. Generations are tried by
 * how far they could reach; the search stops once none can beat the best one found (one
 * attempt, unless the newest generation turns out damaged). The others' databases are closed.
 */
function bestGeneration(
  fulls: readonly BackupFile[],
  deltas: readonly DeltaInfo[],
  source: SchemaSource,
  problems: Map<number, string>,
  options: DatabaseOptions,
): Attempt | null {
  const head = (full: BackupFile) => Math.max(full.sequence, ...deltas.filter((d) => d.base === full.sequence).map((d) => d.file.sequence))
  const candidates = [...fulls].sort((a, b) => head(b) - head(a) || b.sequence - a.sequence)
  let best: Attempt | null = null
  for (const full of candidates) {
    if (best !== null && head(full) <= best.last) break
    const attempt = tryGeneration(full, deltas, source, problems, options)
    if (attempt === null) continue
    if (best === null || attempt.last > best.last) {
      best?.db.close()
      best = attempt
    } else {
      attempt.db.close()
    }
  }
  return best
}

interface Attempt {
  readonly db: Database
  readonly full: BackupFile
  readonly count: number
  readonly applied: RestoredFile[]
  readonly last: number
}

/** Restores one generation as far as it goes; null (and the reason in `problems`) if its full backup is unusable. */
function tryGeneration(full: BackupFile, deltas: readonly DeltaInfo[], source: SchemaSource, problems: Map<number, string>, options: DatabaseOptions): Attempt | null {
  let db: Database
  let count: number
  try {
    const builder = new DatabaseBuilder(full.path, options, source.schemas, false)
    readDocumentSync(full.path, builder)
    const tables = builder.tables()
    count = tables.reduce((n, t) => n + t.records.length, 0)
    db = buildDatabase(tables, options, builder.where)
  } catch (error) {
    if (!(error instanceof DictDBError)) throw error
    problems.set(full.sequence, error instanceof CorruptFileError ? error.message : `its content does not load: ${error.message}`)
    return null
  }
  const applied = replayChain(db, full, deltas, source, problems)
  const last = applied.length > 0 ? (applied[applied.length - 1] as RestoredFile).sequence : full.sequence
  return { db, full, count, applied, last }
}

function checkDirectory(dir: string): void {
  let stat
  try {
    stat = io.statSync(dir)
  } catch (error) {
    throw fileError('restore from', dir, error)
  }
  if (!stat.isDirectory()) throw new FileSystemError(`Cannot restore from \`${shortPath(dir)}\`: it is not a directory (BackupManager.restore() takes a backup directory; load a file with Database.load())`, dir)
}

/** The headers of every delta; an unreadable one is noted in `problems` and left out. */
function readDeltaHeaders(files: readonly BackupFile[], problems: Map<number, string>): DeltaInfo[] {
  const out: DeltaInfo[] = []
  for (const file of files) {
    if (file.kind !== 'delta') continue
    try {
      const h = readHeaderSync(file.path)
      if (h.kind !== 'delta' || h.sequence !== file.sequence || typeof h.base !== 'number' || typeof h.previous !== 'number') {
        throw new CorruptFileError(`its header does not match its name (${preview({ kind: h.kind, sequence: h.sequence })})`)
      }
      out.push({ file, base: h.base, previous: h.previous })
    } catch (error) {
      if (!(error instanceof DictDBError)) throw error
      problems.set(file.sequence, error.message)
    }
  }
  return out
}

/**
 * Replays the deltas of `full`'s generation in chain order. From each file, the next is the
 * delta whose `previous` is that file; if several are (a delta written again after a reported
 * failure carries everything since `previous`), the newest readable one. A delta is read whole
 * (checksum) before any of its ops is applied, and its ops are applied all or none.
 */
function replayChain(db: Database, full: BackupFile, deltas: readonly DeltaInfo[], source: SchemaSource, problems: Map<number, string>): RestoredFile[] {
  const applied: RestoredFile[] = []
  let current = full.sequence
  for (;;) {
    const next = deltas.filter((d) => d.base === full.sequence && d.previous === current).sort((a, b) => b.file.sequence - a.file.sequence)
    let done = true
    for (const delta of next) {
      try {
        const ops = readDeltaOps(delta.file, source)
        const where = `\`${shortPath(delta.file.path)}\``
        // One transaction per delta: it is replayed whole, or rolled back and not at all.
        db.transaction(() => ops.forEach((op, i) => replay(db, op, i, where)))
        applied.push({ file: delta.file.name, sequence: delta.file.sequence, count: ops.length })
        current = delta.file.sequence
        done = false
        break
      } catch (error) {
        if (!(error instanceof DictDBError)) throw error
        problems.set(delta.file.sequence, error.message)
      }
    }
    if (done) return applied
  }
}

/** Applies op number `i` of a delta; what does not fit the database is the delta's fault. */
function replay(db: Database, op: CheckedItem, i: number, where: string): void {
  try {
    applyItem(db, op, where)
  } catch (error) {
    if (error instanceof CorruptFileError || !(error instanceof DictDBError)) throw error
    throw new CorruptFileError(`${where} cannot be replayed: op ${i + 1} (${op.op} on \`${shortName(op.table)}\`): ${error.message}`, { cause: error })
  }
}

/** The ops of a delta, read whole (checksum, stated count) and checked in form before any is applied. */
function readDeltaOps(file: BackupFile, source: SchemaSource): CheckedItem[] {
  const where = `\`${shortPath(file.path)}\``
  const ops: unknown[] = []
  let count: unknown
  readDocumentSync(file.path, {
    header(header) {
      count = header.count
    },
    section(name) {
      if (name !== 'ops') throw new CorruptFileError(`${where} is corrupt: a section \`${shortName(name)}\` in a delta`)
    },
    items(items) {
      for (const item of items) ops.push(item)
    },
    end() {},
  })
  if (count !== undefined && count !== ops.length) throw new CorruptFileError(`${where} is corrupt: its header counts ${typeof count === 'number' ? count : describe(count)} ops, the file holds ${ops.length}`)
  return ops.map((op) => checkItem(op, where, source))
}

/** Every backup file after `last` whose changes the restore does not hold, with the reason. */
function lostFiles(
  files: readonly BackupFile[],
  last: number,
  applied: readonly RestoredFile[],
  full: BackupFile,
  deltas: readonly DeltaInfo[],
  problems: ReadonlyMap<number, string>,
  forks: readonly Fork[],
): LostFile[] {
  const appliedSeqs = new Set([full.sequence, ...applied.map((a) => a.sequence)])
  const lost: LostFile[] = []
  for (const file of files) {
    if (file.sequence <= last || appliedSeqs.has(file.sequence)) continue
    const info = deltas.find((d) => d.file === file)
    // A delta superseded by a newer one written from the same point holds nothing more.
    if (info !== undefined && info.base === full.sequence && appliedSeqs.has(info.previous) && applied.some((a) => a.sequence > file.sequence && deltas.find((d) => d.file.sequence === a.sequence)?.previous === info.previous)) continue
    const forked = forks.some((f) => f.files.includes(file.name))
    const reason =
      problems.get(file.sequence) ??
      (forked ? 'the chain is forked: another writer wrote a file with the same sequence number' : file.kind === 'delta' ? 'it follows a missing or unusable backup file' : 'its generation reaches less far')
    lost.push({ file: file.name, sequence: file.sequence, reason })
  }
  return lost
}

export type { Schema }

/** Sequence numbers that more than one file holds (see {@link RestoreReport.forks}). */
function forksOf(files: readonly BackupFile[]): Fork[] {
  const bySequence = new Map<number, string[]>()
  for (const file of files) bySequence.set(file.sequence, [...(bySequence.get(file.sequence) ?? []), file.name])
  return [...bySequence].filter(([, names]) => names.length > 1).map(([sequence, names]) => ({ sequence, files: names }))
}

/** Why each full backup could not be used, for a message: the first three, then how many more. */
function whyUnusable(fulls: readonly BackupFile[], problems: ReadonlyMap<number, string>): string {
  const shown = fulls.slice(0, 3).map((f) => `${f.name}: ${problems.get(f.sequence) ?? 'unreadable'}`)
  return fulls.length > 3 ? `${shown.join('; ')}; and ${fulls.length - 3} more` : shown.join('; ')
}
