import { join } from 'node:path'
import type { Logger } from '../../database'
import type { Format } from '../document'
import { fileError } from '../errors'
import { io } from '../fs'
import { systemCode } from '../errors'

/*
 * A backup directory holds generations: a full snapshot `full-<seq>.<ext>` and the deltas
 * after it, `delta-<seq>.<ext>`. One sequence number, increasing by one per file written
 * (never reused, never taken from a clock), orders everything; a delta's header names its
 * full (`base`) and the file it follows (`previous`).
 */

/** A backup file found in a directory. */
export interface BackupFile {
  readonly kind: 'full' | 'delta'
  readonly sequence: number
  readonly name: string
  readonly path: string
}

const NAME = /^(full|delta)-(\d{12,})\.(json|bin)$/

/** The file name of a backup. */
export function backupName(kind: 'full' | 'delta', sequence: number, format: Format): string {
  return `${kind}-${String(sequence).padStart(12, '0')}.${format === 'binary' ? 'bin' : 'json'}`
}

/** The backup files of `dir` by sequence (other files, temp files included, are ignored); [] if it does not exist. */
export function listBackups(dir: string): BackupFile[] {
  let names: string[]
  try {
    names = io.readdirSync(dir)
  } catch (error) {
    if (systemCode(error) === 'ENOENT') return []
    throw fileError('list', dir, error)
  }
  const out: BackupFile[] = []
  for (const name of names) {
    const m = NAME.exec(name)
    if (m === null) continue
    out.push({ kind: m[1] as 'full' | 'delta', sequence: Number(m[2]), name, path: join(dir, name) })
  }
  return out.sort((a, b) => a.sequence - b.sequence || (a.kind === 'full' ? -1 : 1))
}

/**
 * Deletes the generations older than the `keep` newest full backups: every file numbered below
 * the oldest kept full backup (never a delta a kept full backup needs: those come after it).
 */
export function pruneGenerations(dir: string, keep: number, logger: Logger): void {
  const files = listBackups(dir)
  const fulls = files.filter((f) => f.kind === 'full').sort((a, b) => b.sequence - a.sequence)
  const oldestKept = fulls[keep - 1]?.sequence
  if (oldestKept === undefined) return
  for (const file of files) {
    if (file.sequence >= oldestKept) continue
    try {
      io.unlinkSync(file.path)
    } catch (error) {
      logger.warn(`dictdb: could not delete the old backup \`${file.path}\``, error)
    }
  }
}
