import * as nodeFs from 'node:fs'

/**
 * The file-system calls persistence makes — a seam, so that tests can make one of them fail
 * (a full disk, a crash between two steps) without touching the real disk. Every read and
 * write of src/persist goes through {@link io}; nothing else in it imports `node:fs`.
 *
 * The async members use the fd-based callback API, wrapped in promises: a fake only has to
 * replace the function it wants to break.
 */
export interface FileSystem {
  openSync(path: string, flags: string, mode?: number): number
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number
  fsyncSync(fd: number): void
  closeSync(fd: number): void
  renameSync(from: string, to: string): void
  linkSync(existing: string, newPath: string): void
  unlinkSync(path: string): void
  statSync(path: string): nodeFs.Stats
  fstatSync(fd: number): nodeFs.Stats
  mkdirSync(path: string, options: { recursive: true }): void
  readdirSync(path: string): string[]
  open(path: string, flags: string, mode?: number): Promise<number>
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<number>
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<number>
  fsync(fd: number): Promise<void>
  close(fd: number): Promise<void>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
}

function promised<A extends unknown[], R>(fn: (...args: [...A, (error: NodeJS.ErrnoException | null, result?: R) => void]) => void) {
  return (...args: A): Promise<R> =>
    new Promise<R>((resolve, reject) => fn(...args, (error, result) => (error ? reject(error) : resolve(result as R))))
}

const real: FileSystem = {
  openSync: (path, flags, mode) => nodeFs.openSync(path, flags, mode),
  writeSync: (fd, buffer, offset, length, position) => nodeFs.writeSync(fd, buffer, offset, length, position),
  readSync: (fd, buffer, offset, length, position) => nodeFs.readSync(fd, buffer, offset, length, position),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (from, to) => nodeFs.renameSync(from, to),
  linkSync: (existing, newPath) => nodeFs.linkSync(existing, newPath),
  unlinkSync: (path) => nodeFs.unlinkSync(path),
  statSync: (path) => nodeFs.statSync(path),
  fstatSync: (fd) => nodeFs.fstatSync(fd),
  mkdirSync: (path, options) => void nodeFs.mkdirSync(path, options),
  readdirSync: (path) => nodeFs.readdirSync(path),
  open: promised<[string, string, number | undefined], number>((path, flags, mode, cb) => nodeFs.open(path, flags, mode, cb)),
  write: promised<[number, Uint8Array, number, number, number | null], number>((fd, buf, off, len, pos, cb) => nodeFs.write(fd, buf, off, len, pos, cb)),
  read: promised<[number, Uint8Array, number, number, number | null], number>((fd, buf, off, len, pos, cb) => nodeFs.read(fd, buf, off, len, pos, cb)),
  fsync: promised<[number], void>((fd, cb) => nodeFs.fsync(fd, cb)),
  close: promised<[number], void>((fd, cb) => nodeFs.close(fd, cb)),
  rename: promised<[string, string], void>((from, to, cb) => nodeFs.rename(from, to, cb)),
  unlink: promised<[string], void>((path, cb) => nodeFs.unlink(path, cb)),
}

/** The file system in use: the real one, unless a test replaced some calls. */
export let io: FileSystem = real

/**
 * Replaces some file-system calls (for fault-injection tests); returns the function that
 * puts the real ones back.
 *
 * @example
 * ```ts
 * const restore = replaceFileSystem({ writeSync: () => { throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }) } })
 * try { expect(() => db.save(file)).toThrow(FileSystemError) } finally { restore() }
 * ```
 */
export function replaceFileSystem(overrides: Partial<FileSystem>): () => void {
  const previous = io
  io = { ...previous, ...overrides }
  return () => {
    io = previous
  }
}
