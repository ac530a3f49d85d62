import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Logger } from '../../database'
import { InvalidStateError } from '../../errors'
import { fileError, systemCode } from '../errors'
import { io } from '../fs'
import { shortPath } from '../../values/describe'

/*
 * A BackupManager owns its folder while it writes: two writers would hand out the same sequence
 * numbers and fork the chain of backups (each restore then keeps one writer's changes). The lock
 * is a file, `dictdb-backup.lock`, holding the owner's pid, host and a token; it is created with
 * its content in one step (a hard link of a written temp file: never seen empty), taken at the
 * first write and given up by `stop()`. A lock whose process is gone (same host, pid not
 * running) is taken over: moved aside, checked, removed, and created anew, so that of two
 * processes taking over the same dead lock at once only one gets it. Every write also checks
 * that the lock still holds this owner's token.
 */

/** The lock file's name in a backup folder. */
export const LOCK_NAME = 'dictdb-backup.lock'

interface Owner {
  readonly pid: number
  readonly host: string
  readonly token: string
  readonly since: string
}

export class FolderLock {
  readonly #dir: string
  readonly #path: string
  readonly #logger: Logger
  readonly #me: Owner
  #held = false

  constructor(dir: string, logger: Logger) {
    this.#dir = dir
    this.#path = join(dir, LOCK_NAME)
    this.#logger = logger
    this.#me = { pid: process.pid, host: hostname(), token: randomUUID(), since: '' }
  }

  /** Takes the folder, or checks it is still ours; a live other owner is an `InvalidStateError`. */
  acquire(): void {
    if (this.#held) {
      const owner = this.#read()
      if (owner?.token === this.#me.token) return
      this.#held = false
      throw this.#taken(owner ?? null, 'it was taken over while this BackupManager held it')
    }
    const me = { ...this.#me, since: new Date().toISOString() }
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.#create(me)) return void (this.#held = true)
      const text = this.#readText(this.#path)
      if (text === undefined) continue // removed meanwhile: try again
      const owner = parseOwner(text)
      if (owner !== null && isAlive(owner)) throw this.#taken(owner, 'another BackupManager writes there')
      // Of two processes taking over the same dead lock, one removes it and creates its own; the
      // other finds that one (live) on its next turn.
      if (this.#removeStale(text, me) && this.#create(me)) {
        this.#held = true
        const who = owner === null ? 'an unreadable lock' : `process ${owner.pid} on ${owner.host}, which is not running`
        this.#logger.warn(`dictdb: took over the backup folder \`${shortPath(this.#dir)}\` from ${who}`)
        return
      }
    }
    throw this.#taken(this.#read() ?? null, 'another process took it at the same moment')
  }

  /** Gives the folder up (if it is still ours). */
  release(): void {
    if (!this.#held) return
    this.#held = false
    if (this.#read()?.token !== this.#me.token) return
    try {
      io.unlinkSync(this.#path)
    } catch (error) {
      if (systemCode(error) !== 'ENOENT') this.#logger.warn(`dictdb: could not remove the lock \`${this.#path}\``, error)
    }
  }

  /** Creates the lock with our content in one step; false if one exists. */
  #create(me: Owner): boolean {
    const temp = this.#writeTemp(me)
    try {
      io.linkSync(temp, this.#path)
      return true
    } catch (error) {
      if (systemCode(error) === 'EEXIST') return false
      throw fileError('lock the backup folder', this.#dir, error)
    } finally {
      io.unlinkSync(temp)
    }
  }

  /**
   * Removes the lock whose content is `stale` (a dead owner's), unless another process took the
   * folder over meanwhile. The lock is moved aside first (of two processes moving it, one does,
   * the other finds nothing) and its content checked: a live lock moved by mistake goes back.
   * True when the stale lock is gone.
   */
  #removeStale(stale: string, me: Owner): boolean {
    const aside = `${this.#path}.${me.token}.stale`
    try {
      io.renameSync(this.#path, aside)
    } catch (error) {
      if (systemCode(error) === 'ENOENT') return false
      throw fileError('lock the backup folder', this.#dir, error)
    }
    try {
      if (this.#readText(aside) === stale) return true
      io.linkSync(aside, this.#path)
    } catch (error) {
      // EEXIST: a third process created a lock in the meantime; the one moved aside learns of it at its next write.
      if (systemCode(error) !== 'EEXIST') throw fileError('lock the backup folder', this.#dir, error)
    } finally {
      io.unlinkSync(aside)
    }
    return false
  }

  #writeTemp(me: Owner): string {
    const temp = `${this.#path}.${me.token}.tmp`
    const bytes = Buffer.from(`${JSON.stringify(me)}\n`)
    let fd: number
    try {
      fd = io.openSync(temp, 'w')
    } catch (error) {
      throw fileError('lock the backup folder', this.#dir, error)
    }
    try {
      io.writeSync(fd, bytes, 0, bytes.length, 0)
    } catch (error) {
      io.closeSync(fd)
      io.unlinkSync(temp)
      throw fileError('lock the backup folder', this.#dir, error)
    }
    io.closeSync(fd)
    return temp
  }

  /** The lock's owner; undefined when there is no lock, null when it cannot be read as one. */
  #read(): Owner | null | undefined {
    const text = this.#readText(this.#path)
    return text === undefined ? undefined : parseOwner(text)
  }

  /** The text of a lock file; undefined when there is none. */
  #readText(path: string): string | undefined {
    try {
      const fd = io.openSync(path, 'r')
      try {
        const buf = Buffer.alloc(Math.min(io.fstatSync(fd).size, 4096))
        return buf.subarray(0, io.readSync(fd, buf, 0, buf.length, 0)).toString('utf8')
      } finally {
        io.closeSync(fd)
      }
    } catch (error) {
      if (systemCode(error) === 'ENOENT') return undefined
      throw fileError('read the lock of', this.#dir, error)
    }
  }

  #taken(owner: Owner | null, why: string): InvalidStateError {
    const who = owner === null ? 'an unknown owner' : `process ${owner.pid} on ${owner.host} (since ${owner.since})`
    return new InvalidStateError(
      `The backup folder \`${shortPath(this.#dir)}\` is in use by ${who}: ${why}, and two writers would fork its chain of backups. ` +
        `Stop the other BackupManager, or give this one another folder; if that process is gone for good, delete \`${this.#path}\`.`,
    )
  }
}

/** The owner a lock file names; null when it cannot be read as one (no one can prove to hold it). */
function parseOwner(text: string): Owner | null {
  try {
    const owner = JSON.parse(text) as Partial<Owner>
    return typeof owner.pid === 'number' && typeof owner.host === 'string' && typeof owner.token === 'string' ? (owner as Owner) : null
  } catch {
    return null
  }
}

/** Whether the owner's process runs (on another host it cannot be told, so it counts as running). */
function isAlive(owner: Owner): boolean {
  if (owner.host !== hostname()) return true
  if (owner.pid === process.pid) return true // another BackupManager of this process
  try {
    process.kill(owner.pid, 0)
    return true
  } catch (error) {
    return systemCode(error) === 'EPERM'
  }
}
