import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'vitest'
import { verify, restoreTo, type Context } from '../../src/cli/commands'
import { Reporter } from '../../src/cli/progress'
import { BackupManager, CorruptFileError, Database } from '../../src/index'
import { databaseDocument } from '../../src/persist/database-file'

/*
 * Every way a file comes into a database — load, loadAsync, a backup restore, the CLI — run on
 * the same bytes, each giving the database (as its canonical content) or the error it threw.
 */

/** What one way in gave: the database's content, or the error's class and message (paths masked). */
export type Outcome = { readonly db: string } | { readonly error: string; readonly message: string }

/**
 * The content of a database, comparable across ways in: its state as it is in memory, fields in
 * the order they are stored (every way in stores a file's records in canonical order, even when a
 * damaged file re-checksummed by hand holds them in another).
 */
export function content(db: Database): string {
  return JSON.stringify(databaseDocument(db.exportState()), (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
}

function outcomeOf(error: unknown, mask: readonly string[]): Outcome {
  let message = error instanceof Error ? error.message : String(error)
  for (const m of mask) message = message.split(m).join('<file>')
  return { error: error instanceof Error ? error.constructor.name : typeof error, message }
}

const silent = { warn() {}, error() {} }

function cliContext(lines: string[]): Context {
  return { reporter: new Reporter({ tty: false, quiet: true }), json: false, out: (line) => lines.push(line), logger: silent }
}

/** Runs every way in on `bytes`, written in `dir`; returns each outcome by name. */
export async function everyWayIn(dir: string, bytes: Uint8Array): Promise<Record<string, Outcome>> {
  const file = join(dir, 'damaged.db')
  writeFileSync(file, bytes)
  const backups = join(dir, 'backups')
  mkdirSync(backups, { recursive: true })
  const full = join(backups, 'full-000000000001.db')
  copyFileSync(file, full.replace(/\.db$/, bytes[0] === 0x89 ? '.bin' : '.json'))
  const mask = [`\`${file}\``, `\`${full.replace(/\.db$/, bytes[0] === 0x89 ? '.bin' : '.json')}\``, `\`${backups}\``]
  const out: Record<string, Outcome> = {}
  const run = async (name: string, fn: () => Database | Promise<Database>) => {
    try {
      const db = await fn()
      out[name] = { db: content(db) }
      db.close()
    } catch (error) {
      out[name] = outcomeOf(error, mask)
    }
  }
  await run('load', () => Database.load(file, { logger: silent }))
  await run('loadAsync', () => Database.loadAsync(file, { logger: silent }))
  await run('restore', () => BackupManager.restore(backups, { logger: silent }))
  await run('cli verify + restore', () => {
    verify(cliContext([]), file)
    const restored = join(dir, 'restored.json')
    restoreTo(cliContext([]), backups, restored, 'json')
    return Database.load(restored, { logger: silent })
  })
  return out
}

/**
 * Expects every way in to agree: all the same database, or all a `CorruptFileError` with the
 * same message (a restore says which backup file failed, then the same problem).
 */
export function expectAgreement(outcomes: Record<string, Outcome>, label: string): Outcome {
  const first = outcomes.load as Outcome
  for (const [name, outcome] of Object.entries(outcomes)) {
    if ('db' in first) {
      expect(outcome, `${label}: ${name}`).toEqual(first)
      continue
    }
    expect('error' in outcome && outcome.error, `${label}: ${name} ${JSON.stringify(outcome)}`).toBe(CorruptFileError.name)
    const message = (outcome as { message: string }).message
    if (name === 'load' || name === 'loadAsync') expect(message, `${label}: ${name}`).toBe(first.message)
    else expect(message, `${label}: ${name}`).toContain(first.message)
  }
  return first
}

/** The bytes of `db` saved in `format`. */
export function savedBytes(db: Database, dir: string, format: 'json' | 'binary'): Buffer {
  const file = join(dir, `saved.${format}`)
  db.save(file, { format })
  return readFileSync(file)
}

/** A JSON file's text without its checksum (as after a hand edit). */
export function withoutChecksum(text: string): string {
  return text.replace(/\],"checksum":"crc32:[0-9a-f]{8}"\}\n?$/, ']}\n')
}
