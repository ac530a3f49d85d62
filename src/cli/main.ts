#!/usr/bin/env node
// The `dictdb` command: inspect, verify, restore, export and import dictdb files.
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { DictDBError } from '../errors'
import { didYouMean } from '../options'
import type { Format } from '../persist/document'
import { EXIT, UsageError, exportTable, importTable, inspect, restoreTo, verify, type Context } from './commands'
import { Reporter } from './progress'
import { shortName } from '../values/describe'

const HELP = `Usage: dictdb <command> [options]

Commands:
  inspect <file>                      tables, record counts, indexes, schemas and sizes of a saved database
  verify <file|backup-dir>            check a file (checksums, content) or a backup directory (every file, and the restore)
  restore <backup-dir> <out-file>     rebuild the latest state from a backup directory and save it
  export <file> <table> --csv <out>   write a table of a saved database as CSV
  import <file> <csv> --table <name>  import a CSV file as a new table of a saved database (created if missing)

Options:
  --format json|binary   format of the file written by restore/import (default: from the extension, .bin = binary)
  --delimiter <char>     CSV field separator (default ,)
  --columns <a,b,c>      export: the columns, in order; import with --no-header: the column names
  --no-header            export: no header row; import: the first row is data
  --primary-key <field>  import: the new table's primary key (default id)
  --no-infer             import: keep every value a string (no numbers, booleans, JSON)
  --json                 machine-readable output
  -q, --quiet            no progress or status lines
  -h, --help             this help
  -v, --version          the version

Exit codes: 0 done, 1 failed (unreadable or corrupt file...), 2 wrong usage,
            3 partial (verify or restore found backup files it could not use).
`

const OPTIONS = {
  format: { type: 'string' },
  delimiter: { type: 'string' },
  columns: { type: 'string' },
  csv: { type: 'string' },
  table: { type: 'string' },
  'primary-key': { type: 'string' },
  'no-header': { type: 'boolean' },
  'no-infer': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

/** The version in dictdb's package.json, found upwards from this script. */
function version(): string {
  let dir = dirname(realpathSync(process.argv[1] ?? '.'))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'dictdb' && pkg.version !== undefined) return pkg.version
    } catch {
      // No readable package.json here: look further up.
    }
    const up = dirname(dir)
    if (up === dir) return 'unknown'
    dir = up
  }
}

function run(argv: string[]): number {
  const { values: v, positionals } = parseCommandLine(argv)
  if (v.help) {
    process.stdout.write(HELP)
    return EXIT.ok
  }
  if (v.version) {
    process.stdout.write(`${version()}\n`)
    return EXIT.ok
  }
  const [command, ...args] = positionals
  const format = checkFormat(v.format)
  return dispatch(command, args, v, format, contextOf(v))
}

/** Runs `command` with its arguments. */
function dispatch(command: string | undefined, args: string[], v: Values, format: Format | undefined, ctx: Context): number {
  switch (command) {
    case 'inspect':
      return inspect(ctx, expect(args, 1, 'inspect <file>')[0]!)
    case 'verify':
      return verify(ctx, expect(args, 1, 'verify <file|backup-dir>')[0]!)
    case 'restore': {
      const [dir, out] = expect(args, 2, 'restore <backup-dir> <out-file>')
      return restoreTo(ctx, dir!, out!, format)
    }
    case 'export':
      return runExport(ctx, args, v)
    case 'import':
      return runImport(ctx, args, v, format)
    case undefined:
      process.stdout.write(HELP)
      return EXIT.usage
    default:
      throw new UsageError(`unknown command \`${shortName(command)}\``)
  }
}

type Values = ReturnType<typeof parseCommandLine>['values']

/** Where a command writes: progress on stderr (a terminal's, unless `--quiet` or `--json`), results on stdout. */
function contextOf(v: Values): Context {
  return {
    reporter: new Reporter({ tty: process.stdout.isTTY === true && process.stderr.isTTY === true, quiet: v.quiet === true || v.json === true }),
    json: v.json === true,
    out: (line) => process.stdout.write(`${line}\n`),
    logger: { warn: (m) => process.stderr.write(`warning: ${m}\n`), error: (m) => process.stderr.write(`error: ${m}\n`) },
  }
}

/** `--columns a,b`: the names, trimmed, empty ones dropped. */
function columnsOf(v: Values): string[] | undefined {
  return v.columns?.split(',').map((c) => c.trim()).filter((c) => c !== '')
}

function runExport(ctx: Context, args: string[], v: Values): number {
  const [file, table] = expect(args, 2, 'export <file> <table> --csv <out.csv>')
  if (v.csv === undefined) throw new UsageError('export needs --csv <out.csv>')
  const opts: Parameters<typeof exportTable>[4] = { header: v['no-header'] !== true }
  const columns = columnsOf(v)
  if (columns !== undefined) opts.columns = columns
  if (v.delimiter !== undefined) opts.delimiter = v.delimiter
  if (v.csv === '-') {
    return toStdout((path) => exportTable({ ...ctx, out: (line) => process.stderr.write(`${line.replace(path, 'stdout')}\n`) }, file!, table!, path, opts))
  }
  return exportTable(ctx, file!, table!, v.csv, opts)
}

function runImport(ctx: Context, args: string[], v: Values, format: Format | undefined): number {
  const [file, csv] = expect(args, 2, 'import <file> <csv> --table <name>')
  if (v.table === undefined) throw new UsageError('import needs --table <name>')
  const opts: Parameters<typeof importTable>[4] = { header: v['no-header'] !== true, inferTypes: v['no-infer'] !== true }
  const columns = columnsOf(v)
  if (columns !== undefined) opts.columns = columns
  if (v.delimiter !== undefined) opts.delimiter = v.delimiter
  if (v['primary-key'] !== undefined) opts.primaryKey = v['primary-key']
  if (format !== undefined) opts.format = format
  return importTable(ctx, file!, csv!, v.table, opts)
}

/** Node's parseArgs, with its errors said in our words: a did-you-mean for an unknown option. */
function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    const code = (error as { code?: unknown }).code
    const names = Object.keys(OPTIONS).map((name) => `--${name}`)
    // The option as typed: the first argument that is not one of ours.
    const given = argv.find((a) => a.startsWith('-') && a !== '-' && !names.includes(a.split('=')[0]!) && !isShort(a)) ?? ''
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(`unknown option \`${shortName(given)}\`. ${didYouMean(given, names, 'Options')}`)
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const option = /'(--?[\w-]+)/.exec((error as Error).message)?.[1] ?? 'an option'
      throw new UsageError(OPTIONS[option.replace(/^-+/, '') as keyof typeof OPTIONS]?.type === 'string' ? `option \`${shortName(option)}\` needs a value` : `option \`${shortName(option)}\` takes no value`)
    }
    throw new UsageError(shortName((error as Error).message, 300))
  }
}

function isShort(arg: string): boolean {
  return Object.values(OPTIONS).some((o) => 'short' in o && arg === `-${o.short}`)
}

/**
 * `--csv -`: the CSV goes to stdout. It is written to a temporary file first (exports are
 * written atomically) and copied out; status lines go to stderr so stdout is only the CSV.
 */
function toStdout(write: (path: string) => number): number {
  const dir = mkdtempSync(join(tmpdir(), 'dictdb-export-'))
  const path = join(dir, 'out.csv')
  try {
    const code = write(path)
    process.stdout.write(readFileSync(path))
    return code
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function expect(args: string[], n: number, usage: string): string[] {
  if (args.length !== n) throw new UsageError(`expected: dictdb ${usage}`)
  return args
}

function checkFormat(format: string | undefined): Format | undefined {
  if (format === undefined || format === 'json' || format === 'binary') return format
  throw new UsageError(`--format must be json or binary, not \`${shortName(format)}\``)
}

function main(): void {
  let code: number
  try {
    code = run(process.argv.slice(2))
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`dictdb: ${error.message}\nRun \`dictdb --help\` for usage.\n`)
      code = EXIT.usage
    } else if (error instanceof DictDBError) {
      process.stderr.write(`dictdb: ${error.message}\n`)
      code = EXIT.failure
    } else {
      process.stderr.write(`dictdb: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      code = EXIT.failure
    }
  }
  process.exitCode = code
}

main()
