// Fails when a name the contract (SPEC.md) declares public is missing from the built package root
// (like Kysely's scripts/check-exports.cjs). Checks both builds — `import('dictdb')` (ESM) and
// `require('dictdb')` (CJS), resolved by name through package.json `exports` — and the type
// declarations of both. Run after `npm run build`: node scripts/check-exports.mjs
// `--require Name` (repeatable) adds a runtime name to check, e.g. to see the check fail.
//
// The lists below are every name in SPEC.md's code blocks (and its Errors section), plus what
// src/index.ts exports beyond it on purpose. Add a name here when the contract gains one.
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Runtime exports (classes and functions) the contract names. */
const RUNTIME = [
  'Database',
  'Sequence',
  'Counter',
  'Ledger',
  'Table',
  'Field',
  'Condition',
  'and',
  'or',
  'not',
  'increment',
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'DictDBError',
  'DuplicateKeyError',
  'DuplicateTableError',
  'RecordNotFoundError',
  'TableNotFoundError',
  'SchemaValidationError',
  'LockTimeoutError',
  'DeadlockError',
  'InsufficientFundsError',
  'CorruptFileError',
  // Bad arguments, bad states, a lost server (SPEC.md, Errors; docs/guide.md).
  'InvalidArgumentError',
  'InvalidStateError',
  'ConnectionError',
  // Live queries and the change feed (docs/live.md).
  'LiveView',
  'ChangeFeedOverflowError',
]

/**
 * Runtime exports the contract names whose features are not built yet, each pending on its own
 * issue: persistence/backups (BackupManager), sequences and counters (Sequence, Counter), the
 * ledger (Ledger). Missing ones are reported as warnings; present ones are checked like the rest.
 * Move a name up to RUNTIME when its feature lands.
 */
const PENDING_RUNTIME = ['BackupManager']

/** Error classes: each must extend DictDBError. */
const ERRORS = RUNTIME.filter((name) => name.endsWith('Error'))

/** Types the contract names (SPEC.md signatures); checked in the declaration files. */
const TYPES = ['Key', 'Where', 'Changes', 'Schema', 'IndexSpec', 'Aggregation', 'RWLock', 'Logger', 'UpsertResult', 'SelectOptions', 'DatabaseHandle', 'EscrowId',
  // The types a typed table derives its signatures from (issue 11).
  'KeyOf', 'Projection', 'AggregateRow', 'GroupRow', 'NotAPromise', 'Operand']
/** Types of features not built yet (see PENDING_RUNTIME). */
const PENDING_TYPES = []

const extra = process.argv.flatMap((arg, i) => (process.argv[i - 1] === '--require' ? [arg] : []))
RUNTIME.push(...extra)

const failures = []
/** Pending name → where it is missing. */
const pending = new Map()
const missingPending = (name, where) => pending.set(name, [...(pending.get(name) ?? []), where])

const require = createRequire(join(root, 'package.json'))
const builds = {}
try {
  builds.esm = await import('dictdb')
} catch (error) {
  failures.push(`import('dictdb') failed: ${error.message} (run \`npm run build\` first)`)
}
try {
  builds.cjs = require('dictdb')
} catch (error) {
  failures.push(`require('dictdb') failed: ${error.message} (run \`npm run build\` first)`)
}

for (const [kind, mod] of Object.entries(builds)) {
  for (const name of RUNTIME) {
    if (typeof mod[name] !== 'function') failures.push(`${kind}: \`${name}\` is not exported from the package root (got ${typeof mod[name]})`)
  }
  for (const name of PENDING_RUNTIME) {
    if (mod[name] === undefined) missingPending(name, kind)
    else if (typeof mod[name] !== 'function') failures.push(`${kind}: \`${name}\` is exported but is not a class (got ${typeof mod[name]})`)
  }
  for (const name of ERRORS) {
    const E = mod[name]
    if (typeof E === 'function' && typeof mod.DictDBError === 'function' && !(E === mod.DictDBError || E.prototype instanceof mod.DictDBError)) {
      failures.push(`${kind}: \`${name}\` does not extend DictDBError`)
    }
  }
}
if (builds.esm && builds.cjs) {
  const esmNames = Object.keys(builds.esm).filter((n) => n !== 'default').sort()
  const cjsNames = Object.keys(builds.cjs).filter((n) => n !== '__esModule').sort()
  if (esmNames.join() !== cjsNames.join()) failures.push(`the ESM and CJS builds export different names:\n    esm: ${esmNames}\n    cjs: ${cjsNames}`)
}

// Declarations: the files package.json points at must exist and export every public name.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const declarations = [pkg.exports?.['.']?.import?.types, pkg.exports?.['.']?.require?.types, pkg.types].filter(Boolean)
for (const file of new Set(declarations)) {
  const path = join(root, file)
  if (!existsSync(path)) {
    failures.push(`${file} (named in package.json) does not exist`)
    continue
  }
  const exported = declaredExports(readFileSync(path, 'utf8'))
  for (const name of [...RUNTIME, ...TYPES]) if (!exported.has(name)) failures.push(`${file}: \`${name}\` is not exported`)
  for (const name of [...PENDING_RUNTIME, ...PENDING_TYPES]) if (!exported.has(name)) missingPending(name, file)
}

/** Names a declaration file exports: `export { a, b as c, type D }` lists and `export declare …`. */
function declaredExports(text) {
  const names = new Set()
  for (const [, list] of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of list.split(',')) {
      const words = item.trim().replace(/^type\s+/, '').split(/\s+as\s+/)
      const name = (words[1] ?? words[0]).trim()
      if (name) names.add(name)
    }
  }
  for (const [, name] of text.matchAll(/export\s+(?:declare\s+)?(?:abstract\s+)?(?:class|function|const|let|interface|type|enum)\s+([A-Za-z_$][\w$]*)/g)) {
    names.add(name)
  }
  return names
}

// A pending name that one build exports is no longer pending: it must be everywhere.
const landed = PENDING_RUNTIME.filter((name) => Object.values(builds).some((mod) => mod[name] !== undefined))
for (const name of landed) {
  if (pending.has(name)) failures.push(`\`${name}\` is exported by one build but missing from: ${pending.get(name).join(', ')}`)
  pending.delete(name)
}
for (const [name, where] of pending) console.warn(`warning: \`${name}\` is not exported yet (pending; missing from ${where.join(', ')})`)
if (failures.length > 0) {
  for (const failure of failures) console.error(`✗ ${failure}`)
  console.error(`\ncheck-exports: ${failures.length} problem(s)`)
  process.exit(1)
}
const checked = RUNTIME.length + TYPES.length
console.log(`check-exports: ok — ${checked} public names exported by both builds and their declarations` +
  (pending.size > 0 ? `; pending: ${[...pending.keys()].join(', ')}` : ''))
