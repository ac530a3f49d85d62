import cliProgress from 'cli-progress'

/** Reports the progress of one long step: a bar on a terminal, one plain line otherwise. */
export interface Step {
  update(value: number, total: number): void
  done(summary: string): void
}

/** Makes steps: bars when `tty` (stdout is a terminal), plain status lines on stderr otherwise. */
export class Reporter {
  readonly #tty: boolean
  readonly #quiet: boolean

  constructor(options: { tty: boolean; quiet: boolean }) {
    this.#tty = options.tty
    this.#quiet = options.quiet
  }

  step(label: string, unit: 'bytes' | 'records'): Step {
    if (this.#quiet) return { update() {}, done() {} }
    if (!this.#tty) return { update() {}, done: (summary) => process.stderr.write(`${label}: ${summary}\n`) }
    return barStep(label, unit)
  }

  /** A line for the user (stderr, so that stdout stays for results); silent with --quiet. */
  note(line: string): void {
    if (!this.#quiet) process.stderr.write(`${line}\n`)
  }
}

/** A step shown as a bar on the terminal, started at its first update. */
function barStep(label: string, unit: 'bytes' | 'records'): Step {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(10)} [{bar}] {percentage}% | {shown}`,
      stream: process.stderr,
      hideCursor: true,
      barsize: 30,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  )
  let started = false
  return {
    update(value, total) {
      const shown = `${format(value, unit)} / ${format(total, unit)}`
      if (!started) {
        bar.start(Math.max(total, 1), value, { shown })
        started = true
      } else {
        bar.setTotal(Math.max(total, 1))
        bar.update(value, { shown })
      }
    },
    done(summary) {
      if (started) bar.stop()
      process.stderr.write(`${label}: ${summary}\n`)
    },
  }
}

/** `12.3 MB`, `4,096 records`. */
export function format(value: number, unit: 'bytes' | 'records'): string {
  if (unit === 'records') return `${value.toLocaleString('en-US')} records`
  return formatBytes(value)
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = bytes / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}
