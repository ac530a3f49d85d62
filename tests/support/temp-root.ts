// Once per test run, before any other setup: a temp folder of the run's own, named in TMPDIR for
// every test, child process and the throwaway PostgreSQL (os.tmpdir() reads TMPDIR at each call),
// and removed when the run ends. Without it each run left folders in the system's temp folder (the
// docs' examples ~800 over a few dozen runs; a killed run's PostgreSQL data, ~100 MB each). A run
// killed before its teardown leaves its folder; the next run removes those whose process is gone.
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const RUN_FOLDER = /^dictdb-run-(\d+)-/

export default function setup(): () => void {
  const base = tmpdir()
  removeAbandoned(base)
  const dir = mkdtempSync(join(base, `dictdb-run-${process.pid}-`))
  // As root, the throwaway PostgreSQL runs as the `postgres` user, which must reach its folder in here.
  chmodSync(dir, 0o755)
  process.env.TMPDIR = dir
  return () => {
    process.env.TMPDIR = base
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Removes the run folders of runs whose process is gone (killed before their teardown). */
function removeAbandoned(base: string): void {
  for (const name of readdirSync(base)) {
    const pid = RUN_FOLDER.exec(name)?.[1]
    if (pid !== undefined && !alive(Number(pid))) rmSync(join(base, name), { recursive: true, force: true })
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
