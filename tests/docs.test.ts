// Every ```ts example in README.md and docs/*.md runs, as one test each (STYLE.md: "every example
// in them runs in a test"). A block fenced as ```ts nocheck is skipped.
//
// How: each block is written to tests/.docs-tmp/<pid>/<doc>-<n>.ts (gitignored) and loaded with
// `await import()`, so vitest transforms it like any test file and `import ... from 'dictdb'`
// resolves to src/index.ts (the alias in vitest.config.ts): the examples check the sources, need
// no build, and run in-process in about a second (spawning `node --import tsx` per block against
// dist/ would cost a process each and test the build, which tests/package.test.ts already does).
// A block passes when it evaluates without throwing; its own `assert` calls check its claims.
// Top-level await works (the import waits for it). A failure is reported at its line in the doc.
// The last test type-checks the same files with tsc: examples must compile as well as run.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { basename, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const tmpDir = join(root, 'tests', '.docs-tmp', String(process.pid))

interface Example {
  /** The nearest heading above the block (or the document's name). */
  readonly heading: string
  /** 1-based line of the opening fence in the document. */
  readonly fenceLine: number
  readonly code: string
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)(.*)$/

/** The runnable examples of a Markdown document: ```ts / ```typescript blocks without `nocheck`. */
function extractExamples(markdown: string, fallbackHeading: string): Example[] {
  const lines = markdown.split(/\r?\n/)
  const out: Example[] = []
  let heading = fallbackHeading
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    const open = FENCE.exec(line)
    if (open === null) {
      const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
      if (h !== null) heading = (h[1] as string).replace(/`/g, '')
      continue
    }
    const [, indent = '', fence = '', lang = '', rest = ''] = open
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const l = lines[j] as string
      const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`)
      if (close.test(l)) break
      body.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart())
    }
    const runnable = (lang === 'ts' || lang === 'typescript') && !/\bnocheck\b/.test(rest)
    if (runnable) out.push({ heading, fenceLine: i + 1, code: `${body.join('\n')}\n` })
    i = j
  }
  return out
}

function documents(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`)
  return ['README.md', ...docs]
}

/** Rewrites the temp file's path:line in an error to the document's path:line. */
function pointAtDoc(error: unknown, file: string, doc: string, fenceLine: number): unknown {
  if (!(error instanceof Error)) return error
  const name = basename(file)
  const where = new RegExp(`[^\\s()'"]*${escapeRegExp(name)}(?:\\?[^:\\s]*)?:(\\d+)(?::(\\d+))?`, 'g')
  const fix = (text: string) => text.replace(where, (_, line: string, col?: string) => `${doc}:${fenceLine + Number(line)}${col ? `:${col}` : ''}`)
  if (error.stack !== undefined) error.stack = fix(error.stack)
  error.message = `${fix(error.message)}\n    (example at ${doc}:${fenceLine})`
  return error
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
}

let failed = false
afterAll(() => {
  // Keep the files of a failing run, to be run by hand: node --import tsx <file> (after a build).
  if (!failed) rmSync(tmpDir, { recursive: true, force: true })
})

describe('extractExamples', () => {
  it('takes ts blocks with the heading above them, skipping nocheck and other languages', () => {
    const md = ['# Title', '```ts', 'a()', '```', '## Part `two`', '```sh', 'npm i', '```', '```ts nocheck', 'b()', '```', '  ```typescript', '  c()', '  ```'].join('\n')
    expect(extractExamples(md, 'doc')).toEqual([
      { heading: 'Title', fenceLine: 2, code: 'a()\n' },
      { heading: 'Part two', fenceLine: 12, code: 'c()\n' },
    ])
  })

  it('ignores headings inside code blocks', () => {
    const md = ['# Real', '```sh', '# a shell comment', '```', '```ts', 'x()', '```'].join('\n')
    expect(extractExamples(md, 'doc')[0]?.heading).toBe('Real')
  })
})

interface Placed extends Example {
  readonly doc: string
  readonly file: string
}

const all: Placed[] = documents().flatMap((doc) =>
  extractExamples(readFileSync(join(root, doc), 'utf8'), doc).map((example, n) => ({
    ...example,
    doc,
    file: join(tmpDir, `${doc.replace(/[/.]/g, '_')}-${n + 1}.ts`),
  })),
)

beforeAll(() => {
  mkdirSync(tmpDir, { recursive: true })
  for (const example of all) writeFileSync(example.file, example.code)
})

for (const doc of documents()) {
  const examples = all.filter((e) => e.doc === doc)
  describe(doc, () => {
    if (doc === 'README.md') {
      it('has a runnable tour', () => {
        expect(examples.length).toBeGreaterThan(0)
      })
    }
    const seen = new Map<string, number>()
    for (const example of examples) {
      const count = (seen.get(example.heading) ?? 0) + 1
      seen.set(example.heading, count)
      const name = count === 1 ? example.heading : `${example.heading} (${count})`
      it(`runs the example in “${name}”`, async () => {
        try {
          await import(pathToFileURL(example.file).href)
        } catch (error) {
          failed = true
          throw pointAtDoc(error, example.file, doc, example.fenceLine)
        }
      })
    }
  })
}

// The examples are TypeScript: they must compile too, under the project's strict settings
// (tsconfig.test.json, where `dictdb` maps to src/index.ts). `// @ts-expect-error` lines in the
// docs are checked as well. Errors are reported at their line in the doc.
it('type-checks every example', () => {
  const tsconfig = {
    extends: relative(tmpDir, join(root, 'tsconfig.test.json')),
    compilerOptions: { noEmit: true },
    include: ['./*.ts'],
    exclude: [],
  }
  writeFileSync(join(tmpDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', join(tmpDir, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8', cwd: root })
  let output = `${result.stdout}${result.stderr}`
  for (const example of all) {
    const name = basename(example.file)
    output = output.replace(
      new RegExp(`[^\\s]*${escapeRegExp(name)}\\((\\d+),(\\d+)\\)`, 'g'),
      (_, line: string, col: string) => `${example.doc}:${example.fenceLine + Number(line)}:${col}`,
    )
  }
  if (result.status !== 0) failed = true
  expect(output.trim()).toBe('')
  expect(result.status).toBe(0)
  // A hang guard: tsc over every example took 81 s under load (tests at nice 19 beside benchmarks).
}, 600_000)
