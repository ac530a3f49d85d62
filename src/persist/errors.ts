import { DictDBError } from '../errors'
import { shortName, shortPath } from '../values/describe'

/**
 * The operating system refused a file operation of persistence: a missing file, a directory
 * where a file was expected, a full disk, a permission. `path` is the file concerned and
 * `systemCode` the system's code (`ENOENT`, `ENOSPC`…); the original error is the `cause`.
 * A failed save leaves the previous file intact.
 *
 * @example
 * ```ts
 * try { Database.load('missing.json') } catch (e) {
 *   if (e instanceof FileSystemError && e.systemCode === 'ENOENT') console.log('no such file:', e.path)
 * }
 * ```
 */
export class FileSystemError extends DictDBError {
  /** The file or directory concerned. */
  readonly path: string
  /** The system error code (`ENOENT`, `EISDIR`, `ENOSPC`, `EACCES`…), when there is one. */
  readonly systemCode: string | undefined

  constructor(message: string, path: string, cause?: unknown) {
    super(message, cause === undefined ? {} : { cause })
    this.path = path
    this.systemCode = systemCode(cause)
  }
}

/** The `code` of a Node.js system error (`ENOENT`…), or undefined. */
export function systemCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined
}

/** Wraps a system error of `action` on `path` (a DictDBError passes through unchanged). */
export function fileError(action: string, path: string, error: unknown, after = ''): Error {
  if (error instanceof DictDBError) return error
  const code = systemCode(error)
  const why =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EISDIR'
        ? 'it is a directory'
        : code === 'ENOSPC'
          ? 'no space left on the device'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : error instanceof Error
              ? systemMessage(error.message, path)
              : String(error)
  return new FileSystemError(`Could not ${action} \`${shortPath(path)}\`: ${why}${code !== undefined && !why.includes(code) ? ` (${code})` : ''}${after}`, path, error)
}

/** The system's message, whose paths (Node quotes them whole) are cut like the message's own. */
function systemMessage(message: string, path: string): string {
  return shortName(message.split(path).join(shortPath(path)), 300)
}
