import { randomBytes } from 'node:crypto'
import { basename, dirname, join, resolve } from 'node:path'
import { threadId } from 'node:worker_threads'
import { fileError, FileSystemError, systemCode } from './errors'
import { io } from './fs'
import { shortPath } from '../values/describe'

/** What the directory fsync may answer on platforms that cannot fsync a directory (Windows). */
const NO_DIR_FSYNC = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EBADF', 'ENOTSUP'])
const TEMP_SUFFIX = '.tmp'
let counter = 0

/** The temp file a write of `target` goes through: hidden, in the same directory, unique. */
function tempPath(target: string): string {
  const id = `${process.pid}-${threadId}-${++counter}-${randomBytes(4).toString('hex')}`
  return join(dirname(target), `.${basename(target)}.${id}${TEMP_SUFFIX}`)
}

/** The mode of the file being replaced (so a private file stays private), or the default. */
function targetMode(target: string): number {
  let stat
  try {
    stat = io.statSync(target)
  } catch (error) {
    if (systemCode(error) === 'ENOENT') return 0o666
    throw fileError('write', target, error)
  }
  if (stat.isDirectory()) throw new FileSystemError(`Cannot write \`${shortPath(target)}\`: it is a directory`, target)
  return stat.mode & 0o777
}

/**
 * Writes `chunks` to `path` atomically: into a temp file in the same directory, fsync, rename
 * over `path`, fsync the directory. A crash or an error at any point leaves either the old file
 * or the new one, never a mix; on error the temp file is removed and the error rethrown
 * (system errors as `FileSystemError`).
 */
export function writeFileAtomicSync(path: string, chunks: Iterable<Uint8Array>): void {
  const target = resolve(path)
  const mode = targetMode(target)
  const temp = tempPath(target)
  let fd: number
  try {
    fd = io.openSync(temp, 'wx', mode)
  } catch (error) {
    throw fileError('write', target, error)
  }
  try {
    for (const chunk of chunks) writeAllSync(fd, chunk)
    io.fsyncSync(fd)
  } catch (error) {
    closeQuietly(fd)
    removeQuietly(temp)
    throw fileError('write', target, error, '; the previous file is intact')
  }
  try {
    io.closeSync(fd)
    io.renameSync(temp, target)
  } catch (error) {
    removeQuietly(temp)
    throw fileError('write', target, error, '; the previous file is intact')
  }
  syncDirectorySync(dirname(target), target)
}

/** {@link writeFileAtomicSync} without blocking: every chunk is written with an awaited call. */
export async function writeFileAtomic(path: string, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  const target = resolve(path)
  const mode = targetMode(target)
  const temp = tempPath(target)
  let fd: number
  try {
    fd = await io.open(temp, 'wx', mode)
  } catch (error) {
    throw fileError('write', target, error)
  }
  try {
    for await (const chunk of chunks) await writeAll(fd, chunk)
    await io.fsync(fd)
  } catch (error) {
    await io.close(fd).catch(() => {})
    await io.unlink(temp).catch(() => {})
    throw fileError('write', target, error, '; the previous file is intact')
  }
  try {
    await io.close(fd)
    await io.rename(temp, target)
  } catch (error) {
    await io.unlink(temp).catch(() => {})
    throw fileError('write', target, error, '; the previous file is intact')
  }
  syncDirectorySync(dirname(target), target)
}

function writeAllSync(fd: number, chunk: Uint8Array): void {
  // write(2) may write less than asked (rare for files, but allowed): loop until done.
  for (let off = 0; off < chunk.length; ) off += io.writeSync(fd, chunk, off, chunk.length - off, null)
}

async function writeAll(fd: number, chunk: Uint8Array): Promise<void> {
  for (let off = 0; off < chunk.length; ) off += await io.write(fd, chunk, off, chunk.length - off, null)
}

/**
 * Makes the rename durable. If this fails the new file is in place but may not survive a power
 * loss, so the caller is told (the write is reported as failed).
 */
function syncDirectorySync(dir: string, target: string): void {
  let fd: number | undefined
  try {
    fd = io.openSync(dir, 'r')
    io.fsyncSync(fd)
  } catch (error) {
    const code = systemCode(error)
    if (code === undefined || !NO_DIR_FSYNC.has(code)) {
      throw fileError('make durable', target, error, ' (the directory could not be synced; the new file is in place but may not survive a power loss)')
    }
  } finally {
    if (fd !== undefined) closeQuietly(fd)
  }
}

function closeQuietly(fd: number): void {
  try {
    io.closeSync(fd)
  } catch {
    // Already failing: the first error is the one reported.
  }
}

function removeQuietly(path: string): void {
  try {
    io.unlinkSync(path)
  } catch {
    // Already failing: the first error is the one reported.
  }
}
