import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

// ownsKey (src/values/own-field.ts) is dictdb's one own-key test: written out so that the
// compiler drops it in a for…in over the object's own keys, where a saved `hasOwnProperty`
// stayed a call. A second spelling elsewhere would miss that and any later fix made to ownsKey.

const SRC = join(import.meta.dirname, '../../src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') ? [path] : []
  })
}

describe('the own-key test', () => {
  it('is spelled out in src/values/own-field.ts alone: nowhere else a hasOwnProperty or Object.hasOwn', () => {
    const found: string[] = []
    for (const path of sources(SRC)) {
      const name = relative(SRC, path)
      if (name === join('values', 'own-field.ts')) continue
      readFileSync(path, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          // Comments may name them; code may not.
          const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '')
          if (/hasOwnProperty|Object\.hasOwn\b|\bhasOwn\s*\./.test(code)) found.push(`${name}:${i + 1}: ${line.trim()}`)
        })
    }
    expect(found).toEqual([])
  })
})
