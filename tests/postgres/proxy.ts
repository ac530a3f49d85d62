import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net'

/** A TCP proxy to the test server on loopback that a test can cut and restore: a server "lost". */
export class Proxy {
  readonly #target: { host: string; port: number }
  readonly #sockets = new Set<Socket>()
  #server: Server | null = null
  #commitCut: { marker: string; forward: boolean } | null = null
  /** What the server sent while held, to deliver on release (null: not held). */
  #held: [Socket, Buffer][] | null = null
  port = 0

  constructor(url: string) {
    const u = new URL(url)
    this.#target = { host: u.hostname, port: Number(u.port || 5432) }
  }

  /** Listens (again, on the same port once it has one). */
  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect(this.#target)
      for (const s of [client, upstream]) {
        this.#sockets.add(s)
        s.on('close', () => this.#sockets.delete(s))
        s.on('error', () => (client.destroy(), upstream.destroy()))
      }
      upstream.on('data', (chunk: Buffer) => (this.#held === null ? client.write(chunk) : this.#held.push([client, chunk])))
      upstream.on('end', () => client.end())
      client.on('data', (chunk: Buffer) => this.#fromClient(chunk, client, upstream))
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as { port: number }).port
    this.#server = server
  }

  /**
   * Cuts the next connection that sends a message containing `marker` (e.g. the statement that
   * commits): after the server got it and had time to run it (`forward`), or before it got it.
   * Either way the client never hears the answer.
   */
  cutAtNext(marker: string, forward: boolean): void {
    this.#commitCut = { marker, forward }
  }

  /**
   * Holds back what the server sends (answers, notifications) until release(); what clients
   * send still goes through: a process that hears nothing for a while.
   */
  hold(): void {
    this.#held ??= []
  }

  /** Delivers what was held back, in order, and stops holding. */
  release(): void {
    const held = this.#held ?? []
    this.#held = null
    for (const [client, chunk] of held) if (!client.destroyed) client.write(chunk)
  }

  /** A cut asked for with cutAtNext has not happened yet. */
  get cutPending(): boolean {
    return this.#commitCut !== null
  }

  #fromClient(chunk: Buffer, client: Socket, upstream: Socket): void {
    const cut = this.#commitCut
    if (cut === null || !chunk.includes(cut.marker)) return void upstream.write(chunk)
    this.#commitCut = null
    client.destroy()
    if (!cut.forward) return void upstream.destroy()
    upstream.write(chunk)
    setTimeout(() => upstream.destroy(), 200)
  }

  /** Cuts every connection and refuses new ones. */
  async cut(): Promise<void> {
    const server = this.#server
    this.#server = null
    for (const s of this.#sockets) s.destroy()
    if (server !== null) await new Promise((resolve) => server.close(resolve))
  }

  /** The URL of the server through this proxy. */
  url(url: string): string {
    const u = new URL(url)
    u.port = String(this.port)
    return u.toString()
  }
}
