import { describe, expect, it } from 'vitest'
import { runModule } from './support/child'

const TEMP_ROOT = new URL('./support/temp-root.ts', import.meta.url).href

// The test run's temp-folder setup (tests/support/temp-root.ts), run in a child process: it
// sets TMPDIR, which the rest of this run must keep.
describe("the test run's temp folder", () => {
  it("removes the folders of killed runs whose process is gone, and keeps a live run's folder and other folders", () => {
    const out = runModule(`
      const { spawnSync } = await import('node:child_process')
      const { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } = await import('node:fs')
      const { tmpdir } = await import('node:os')
      const { join } = await import('node:path')
      const base = mkdtempSync(join(tmpdir(), 'dictdb-sweep-'))
      const gone = spawnSync(process.execPath, ['-e', '']).pid
      for (const name of ['dictdb-run-' + gone + '-abc', 'dictdb-run-' + process.pid + '-abc', 'other-' + gone]) mkdirSync(join(base, name, 'data'), { recursive: true })
      process.env.TMPDIR = base
      const { default: setup } = await import(${JSON.stringify(TEMP_ROOT)})
      const teardown = setup()
      const own = process.env.TMPDIR
      const names = { ['dictdb-run-' + gone + '-abc']: 'killed run', ['dictdb-run-' + process.pid + '-abc']: 'live run', ['other-' + gone]: 'other' }
      const during = readdirSync(base).map((n) => join(base, n) === own ? 'this run' : names[n] ?? n).sort()
      teardown()
      const after = [existsSync(own), process.env.TMPDIR === base]
      rmSync(base, { recursive: true })
      console.log(JSON.stringify([during, after]))`)
    expect(JSON.parse(out)).toEqual([['live run', 'other', 'this run'], [false, true]])
  })
})
