import { extname } from 'node:path'
import { Database, type Logger } from '../database'
import { BackupManager } from '../persist/backup/manager'
import { listBackups } from '../persist/backup/files'
import type { RestoreReport } from '../persist/backup/restore'
import { loadDatabase, saveDatabase } from '../persist/database-file'
import type { Format } from '../persist/document'
import { io } from '../persist/fs'
import { fileFormat, readDocumentSync } from '../persist/read-file'
import { systemCode } from '../persist/errors'
import { inspectFile, schemaText, type FileInfo } from './inspect'
import { formatBytes, type Reporter } from './progress'

/** Exit codes: what a shell script can test. */
export const EXIT = { ok: 0, failure: 1, usage: 2, partial: 3 } as const

/** A wrong command line: printed with a hint to `--help`, exit code 2. */
export class UsageError extends Error {}

/** What every command gets. */
export interface Context {
  readonly reporter: Reporter
  readonly json: boolean
  readonly out: (line: string) => void
  readonly logger: Logger
}

function loadWithProgress(ctx: Context, path: string): Database {
  const step = ctx.reporter.step('Loading', 'bytes')
  const db = loadDatabase(path, { logger: ctx.logger }, { onBytes: (done, total) => step.update(done, total) })
  const tables = db.listTables()
  step.done(`${path}: ${tables.length} table(s), ${tables.reduce((n, t) => n + db.getTable(t).count(), 0).toLocaleString('en-US')} records`)
  return db
}

function saveWithProgress(ctx: Context, db: Database, path: string, format: Format): void {
  const step = ctx.reporter.step('Saving', 'records')
  saveDatabase(db, path, { format }, { onItems: (done, total) => step.update(done, total) })
  step.done(`${path} written (${format})`)
}

/** `inspect <file>`: tables, counts, indexes, schemas, sizes. */
export function inspect(ctx: Context, file: string): number {
  const step = ctx.reporter.step('Reading', 'bytes')
  const info = inspectFile(file, (done, total) => step.update(done, total))
  step.done(`${formatBytes(info.bytes)} checked`)
  if (ctx.json) ctx.out(JSON.stringify(info, null, 2))
  else printInfo(ctx, info)
  return EXIT.ok
}

function printInfo(ctx: Context, info: FileInfo): void {
  ctx.out(`${info.file}: dictdb ${info.kind} file, ${info.format} format version ${info.version}, ${formatBytes(info.bytes)}`)
  if (info.kind !== 'database') return
  const rows = [['table', 'records', 'key', 'next key', 'indexes', 'schema', 'size']]
  for (const t of info.tables) {
    const indexes = t.indexes.map((i) => `${i.field} (${i.type}${i.unique ? ', unique' : ''})`).join(', ') || '-'
    rows.push([t.name, t.records.toLocaleString('en-US'), t.primaryKey, String(t.nextAutoKey), indexes, schemaText(t.schema), formatBytes(t.bytes)])
  }
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)))
  for (const r of rows) ctx.out(r.map((c, j) => (j === 1 || j === 3 || j === 6 ? c.padStart(widths[j]!) : c.padEnd(widths[j]!))).join('  ').trimEnd())
}

/** `verify <file|backup-dir>`: checksums and structure; for a directory, every file and the restore. */
export function verify(ctx: Context, target: string): number {
  if (isDirectory(target)) return verifyDirectory(ctx, target)
  const db = loadWithProgress(ctx, target)
  const tables = db.listTables()
  if (ctx.json) ctx.out(JSON.stringify({ file: target, ok: true, format: fileFormat(target), tables: tables.length }))
  else ctx.out(`OK ${target}: checksums and content verified (${fileFormat(target)}, ${tables.length} table(s))`)
  return EXIT.ok
}

function verifyDirectory(ctx: Context, dir: string): number {
  const files = listBackups(dir).map((f) => ({ file: f.name, path: f.path, sequence: f.sequence, kind: f.kind, ok: true, problem: '' }))
  for (const f of files) {
    try {
      readDocumentSync(f.path, { header() {}, section() {}, items() {}, end() {} })
    } catch (error) {
      f.ok = false
      f.problem = (error as Error).message
    }
  }
  const report = restore(ctx, dir)
  const ok = report.lost.length === 0 && report.forks.length === 0 && files.every((f) => f.ok)
  if (ctx.json) {
    ctx.out(JSON.stringify({ dir, ok, files, restore: summary(report) }, null, 2))
  } else {
    for (const f of files) ctx.out(`${f.ok ? 'ok     ' : 'CORRUPT'}  ${f.file}${f.ok ? '' : `: ${f.problem}`}`)
    for (const fork of report.forks) {
      ctx.out(`FORKED   #${fork.sequence}: ${fork.files.join(' and ')} share a sequence number: two BackupManagers wrote into this folder at once`)
    }
    ctx.out(describeRestore(report))
  }
  return ok ? EXIT.ok : EXIT.partial
}

/** `restore <backup-dir> <out-file>`: rebuild and save. */
export function restoreTo(ctx: Context, dir: string, out: string, format: Format | undefined): number {
  const report = restore(ctx, dir)
  saveWithProgress(ctx, report.db, out, format ?? formatOf(out))
  if (ctx.json) ctx.out(JSON.stringify({ out, ...summary(report) }, null, 2))
  else ctx.out(describeRestore(report))
  return report.lost.length === 0 ? EXIT.ok : EXIT.partial
}

function restore(ctx: Context, dir: string): RestoreReport {
  const step = ctx.reporter.step('Restoring', 'records')
  // The lost files are in the report, which the command prints: the restore's own warning
  // about them would say it a second time.
  const report = BackupManager.restoreWithReport(dir, { logger: { ...ctx.logger, warn: () => {} } })
  step.done(`${report.full.file} + ${report.applied.length} delta(s)`)
  return report
}

function summary(report: RestoreReport) {
  return { full: report.full, applied: report.applied, lost: report.lost, forks: report.forks, sequence: report.sequence, tables: report.db.listTables() }
}

function describeRestore(report: RestoreReport): string {
  const lines = [`Restored to backup #${report.sequence}: ${report.full.file} (${report.full.count} records) + ${report.applied.length} delta(s)`]
  for (const l of report.lost) lines.push(`LOST  ${l.file}: ${l.reason}`)
  if (report.lost.length > 0) lines.push(`${report.lost.length} backup file(s) could not be applied: the changes they held are missing.`)
  if (report.forks.length > 0) lines.push('The chain is forked: the restore holds the changes of one writer only. Give each BackupManager a folder of its own.')
  return lines.join('\n')
}

/** `export <file> <table> --csv <out>`. */
export function exportTable(ctx: Context, file: string, table: string, csv: string, options: { columns?: string[]; delimiter?: string; header: boolean }): number {
  const db = loadWithProgress(ctx, file)
  const csvOptions: Record<string, unknown> = { header: options.header }
  if (options.columns !== undefined) csvOptions.columns = options.columns
  if (options.delimiter !== undefined) csvOptions.delimiter = options.delimiter
  const n = db.getTable(table).exportCsv(csv, csvOptions)
  if (ctx.json) ctx.out(JSON.stringify({ table, csv, rows: n }))
  else ctx.out(`Exported ${n.toLocaleString('en-US')} row(s) of \`${table}\` to ${csv}`)
  return EXIT.ok
}

/** `import <file> <csv> --table <name>`: into the database file (created when missing). */
export function importTable(
  ctx: Context,
  file: string,
  csv: string,
  table: string,
  options: { delimiter?: string; header: boolean; columns?: string[]; primaryKey?: string; inferTypes: boolean; format?: Format },
): number {
  const exists = fileExists(file)
  const db = exists ? loadWithProgress(ctx, file) : new Database({ logger: ctx.logger })
  if (!exists) ctx.reporter.note(`${file} does not exist: creating it`)
  const csvOptions: Record<string, unknown> = { header: options.header, inferTypes: options.inferTypes }
  if (options.delimiter !== undefined) csvOptions.delimiter = options.delimiter
  if (options.columns !== undefined) csvOptions.columns = options.columns
  if (options.primaryKey !== undefined) csvOptions.primaryKey = options.primaryKey
  const n = db.importCsv(csv, table, csvOptions)
  saveWithProgress(ctx, db, file, options.format ?? (exists ? fileFormat(file) : formatOf(file)))
  if (ctx.json) ctx.out(JSON.stringify({ file, table, rows: n }))
  else ctx.out(`Imported ${n.toLocaleString('en-US')} row(s) from ${csv} into \`${table}\` of ${file}`)
  return EXIT.ok
}

/** The format a file name suggests: binary for `.bin`/`.dictdb`, else JSON. */
function formatOf(path: string): Format {
  const ext = extname(path).toLowerCase()
  return ext === '.bin' || ext === '.dictdb' ? 'binary' : 'json'
}

function isDirectory(path: string): boolean {
  try {
    return io.statSync(path).isDirectory()
  } catch {
    return false // missing: the load that follows says so
  }
}

function fileExists(path: string): boolean {
  try {
    io.statSync(path)
    return true
  } catch (error) {
    if (systemCode(error) === 'ENOENT') return false
    throw error
  }
}
