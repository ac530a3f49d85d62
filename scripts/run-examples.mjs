// Runs every example in examples/ (the library's "main job") against the built package.
// Each example exits non-zero when an invariant breaks; this script stops at the first failure.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = join(root, 'examples')
const only = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => /\.(ts|mjs)$/.test(f) && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()

let failed = 0
for (const file of files) {
  console.log(`\n=== ${file}`)
  const args = file.endsWith('.ts') ? ['--import', 'tsx', join(dir, file)] : [join(dir, file)]
  const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root })
  if (result.status !== 0) {
    failed++
    console.error(`✗ ${file} failed (exit ${result.status ?? result.signal})`)
  }
}
console.log(`\n${files.length - failed} of ${files.length} examples ran and kept their invariants`)
process.exit(failed === 0 ? 0 : 1)
