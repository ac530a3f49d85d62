import pg from 'pg'
import { ConnectionError, DictDBError, InvalidStateError, LockTimeoutError } from '../errors'
import { shortName } from '../values/describe'

/** What the log needs of a connection: queries, and the positions other processes announce. */
export interface ConnectionOptions {
  url: string
  /** Lock wait in the server, connect time, and how long a write keeps trying (ms). */
  lockTimeoutMs: number
  /** Called with every notification payload on the log's channel. */
  onNotify: (payload: string) => void
  /** Called after every (re)connection, LISTEN done: the log catches up by query. */
  onConnect: (client: pg.Client) => Promise<void>
  /** Called when a live connection is lost. */
  onLost: () => void
  channel: string
  /** Shown in pg_stat_activity (operators can find, or end, this database's sessions). */
  applicationName: string
}

/** Backoff between reconnection attempts: 50 ms doubling to 2 s. */
function reconnectDelay(attempt: number): number {
  return Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2)
}

/**
 * One PostgreSQL connection that comes back: a lost one (server restart, `pg_terminate_backend`,
 * network) is replaced with backoff. Keepalives and `idle_in_transaction_session_timeout` make
 * the server end the session of a process that died half-open, so its row locks go with it.
 */
export class Connection {
  readonly #options: ConnectionOptions
  #client: pg.Client | null = null
  #connecting: Promise<pg.Client> | null = null
  #closed = false

  constructor(options: ConnectionOptions) {
    this.#options = options
  }

  /** A live client, connecting (with backoff) until `deadline` (epoch ms). */
  async client(deadline: number): Promise<pg.Client> {
    if (this.#client !== null) return this.#client
    this.#connecting ??= this.#connectUntil(deadline).finally(() => (this.#connecting = null))
    return this.#connecting
  }

  /** Forgets a client that failed (its session is gone or in an unknown state). */
  drop(client: pg.Client): void {
    if (this.#client !== client) return
    this.#client = null
    client.end().catch(() => {})
    if (!this.#closed) this.#options.onLost()
  }

  async close(): Promise<void> {
    this.#closed = true
    const client = this.#client
    this.#client = null
    if (client !== null) await client.end().catch(() => {})
  }

  async #connectUntil(deadline: number): Promise<pg.Client> {
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new ConnectionError('The connected database is closed')
      try {
        return await this.#connectOnce(deadline)
      } catch (error) {
        if (error instanceof InvalidStateError) throw error // a refusal (see Statements.install): no retry fixes it
        if (Date.now() + reconnectDelay(attempt) >= deadline) {
          throw new ConnectionError(`Could not reach PostgreSQL: ${shortName(String((error as Error).message), 300)}`, { cause: error })
        }
        await new Promise((resolve) => setTimeout(resolve, reconnectDelay(attempt)))
      }
    }
  }

  async #connectOnce(deadline: number): Promise<pg.Client> {
    const client = this.#newClient(deadline)
    try {
      await client.connect()
      await client.query(`LISTEN ${quoteIdent(this.#options.channel)}`)
      this.#client = client
      await this.#options.onConnect(client)
      return client
    } catch (error) {
      if (this.#client === client) this.#client = null
      client.end().catch(() => {})
      throw error
    }
  }

  /** A client not yet connected, its session settings and listeners in place. */
  #newClient(deadline: number): pg.Client {
    const { url, lockTimeoutMs, channel } = this.#options
    const client = new pg.Client({
      connectionString: url,
      keepAlive: true,
      keepAliveInitialDelayMillis: 5000,
      // An unreachable host (no refusal, no answer) must not hold a write past its deadline.
      connectionTimeoutMillis: Math.max(100, deadline - Date.now()),
      lock_timeout: Math.max(1, lockTimeoutMs),
      // A process stopped between BEGIN and COMMIT (a debugger, SIGSTOP) frees the head row.
      idle_in_transaction_session_timeout: Math.max(1000, 2 * lockTimeoutMs),
      application_name: this.#options.applicationName.slice(0, 63),
    })
    // An error event without a listener would crash the process; the next query sees it anyway.
    client.on('error', () => this.drop(client))
    client.on('end', () => this.drop(client))
    client.on('notification', (message) => {
      if (message.channel === channel && message.payload !== undefined) this.#options.onNotify(message.payload)
    })
    return client
  }
}

/** Quotes an SQL identifier (names never reach SQL any other way; values are parameters). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** SQLSTATE classes and codes that mean the session is gone or unusable: reconnect and retry. */
const LOST = ['08', '57P01', '57P02', '57P03', '25P03']

/** Whether an error means the connection was lost (as opposed to an error of the statement). */
export function isConnectionLoss(error: unknown): boolean {
  if (error instanceof DictDBError) return error instanceof ConnectionError // dictdb's own refusals are final
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true // a socket error
  return LOST.some((c) => code.startsWith(c))
}

/** The server's lock wait ran out (another process holds the head row): `LockTimeoutError`. */
export function asLockTimeout(error: unknown): LockTimeoutError | null {
  const code = (error as { code?: unknown } | null)?.code
  if (code !== '55P03') return null
  return new LockTimeoutError('Timed out waiting for the database head row: another process holds a long write', { cause: error })
}
