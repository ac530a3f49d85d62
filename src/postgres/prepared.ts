import type pg from 'pg'

/** A parameter: text (format 0), or bytes sent as they are (format 1, e.g. a `bytea`). */
export type Param = string | Uint8Array

/** The fields of the row a call answers (text format; null for SQL NULL), or null if none. */
export type Row = (string | null)[] | null

/** Connections on which the statement is known to be prepared (its name is per connection). */
type Prepared = WeakSet<pg.Connection>

/**
 * A named prepared statement that answers at most one row, sent through node-postgres's
 * `Submittable` interface with protocol messages made here. The commit is the hot path of a
 * connected database: node-postgres's own `Query` copies its config object, maps every value,
 * asks the server to describe the result each time and builds a result object and a row
 * object; here a call is one Bind/Execute/Sync write (the Parse only on a connection's first
 * call), and its answer the row's fields as the protocol parser gave them.
 */
export class PreparedStatement {
  readonly #name: Buffer
  readonly #formats: Buffer
  readonly #parse: Buffer
  readonly #prepared: Prepared = new WeakSet()

  /** `binary[i]`: parameter i is sent as bytes (format 1). */
  constructor(name: string, text: string, binary: readonly boolean[]) {
    this.#name = cstring(name)
    this.#formats = Buffer.alloc(2 + 2 * binary.length)
    this.#formats.writeUInt16BE(binary.length, 0)
    binary.forEach((b, i) => this.#formats.writeUInt16BE(b ? 1 : 0, 2 + 2 * i))
    // Close first: a Parse whose call failed may have prepared the statement (closing none is no error).
    const close = message(0x43, [Buffer.from('S'), this.#name])
    this.#parse = Buffer.concat([close, message(0x50, [this.#name, cstring(text), Buffer.alloc(2)])])
  }

  /** Runs the statement with `params` on `client`; the row it answered. */
  run(client: pg.Client, params: readonly Param[]): Promise<Row> {
    return new Promise((resolve, reject) => {
      client.query(new Call(this, params, (error, row) => (error === null ? resolve(row) : reject(error))))
    })
  }

  /** The messages of one call on `connection`: Parse (first call), Bind, Execute, Sync. */
  messages(connection: pg.Connection, params: readonly Param[]): Buffer {
    const values = params.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p))
    let size = 0
    for (const v of values) size += 4 + v.byteLength
    const length = 4 + 1 + this.#name.length + this.#formats.length + 2 + size + 2
    const bind = Buffer.allocUnsafe(1 + length + EXECUTE_SYNC.length)
    bind[0] = 0x42
    bind.writeInt32BE(length, 1)
    let at = 5
    bind[at++] = 0 // the unnamed portal
    at += this.#name.copy(bind, at)
    at += this.#formats.copy(bind, at)
    at = bind.writeUInt16BE(values.length, at)
    for (const v of values) {
      at = bind.writeInt32BE(v.byteLength, at)
      bind.set(v, at)
      at += v.byteLength
    }
    at = bind.writeUInt16BE(0, at) // every result column as text
    EXECUTE_SYNC.copy(bind, at)
    return this.#prepared.has(connection) ? bind : Buffer.concat([this.#parse, bind])
  }

  /** A call on `connection` ended well: its statement is prepared there. */
  prepared(connection: pg.Connection): void {
    this.#prepared.add(connection)
  }
}

/** Execute the unnamed portal (all rows), then Sync. */
const EXECUTE_SYNC = Buffer.concat([message(0x45, [Buffer.from([0]), Buffer.alloc(4)]), message(0x53, [])])

/**
 * One call, as node-postgres's client drives a submitted query: `submit` when it is its turn,
 * then a handler per message of the answer. No `name` or `text` property: the client's own
 * bookkeeping of prepared statements is for its `Query` objects.
 */
class Call {
  #row: Row = null
  #connection: pg.Connection | null = null
  #settled = false

  constructor(
    readonly statement: PreparedStatement,
    readonly params: readonly Param[],
    readonly callback: (error: unknown, row: Row) => void,
  ) {}

  submit(connection: pg.Connection): void {
    this.#connection = connection
    connection.stream.write(this.statement.messages(connection, this.params))
  }

  handleDataRow(message: { fields: (string | null)[] }): void {
    this.#row = message.fields
  }

  handleReadyForQuery(): void {
    if (this.#settled) return
    this.#settled = true
    if (this.#connection !== null) this.statement.prepared(this.#connection)
    this.callback(null, this.#row)
  }

  /** An error of the statement (the server then sends ReadyForQuery to no query), or a lost connection. */
  handleError(error: unknown): void {
    if (this.#settled) return
    this.#settled = true
    this.callback(error, null)
  }

  handleRowDescription(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}

/** A protocol message: its type byte, its length, its parts. */
function message(type: number, parts: readonly Uint8Array[]): Buffer {
  const body = Buffer.concat(parts)
  const out = Buffer.allocUnsafe(5 + body.length)
  out[0] = type
  out.writeInt32BE(4 + body.length, 1)
  body.copy(out, 5)
  return out
}

function cstring(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0])])
}
