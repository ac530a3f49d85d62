import { Worker } from 'node:worker_threads'

/** How a worker takes and lets go of word `index` of an Int32Array `i32` (JavaScript statements). */
export interface HeldWord {
  readonly index: number
  /** The word's value while the worker holds it and nobody marked it to sleep on it. */
  readonly held: number
  /** Takes the word. */
  readonly take: string
  /** Lets go of it (`marked`, the word as this thread marked it, is in scope). */
  readonly release: string
}

/**
 * Runs `wait` (a blocking take of the word) in this thread while a worker holds the word: the
 * worker takes it, tells this thread, waits (5 s at most) until this thread has marked the word
 * to sleep on it, then lets go. Returns the word as the worker saw it marked.
 */
export async function waitWhileWorkerHolds(i32: Int32Array, word: HeldWord, wait: () => void): Promise<unknown> {
  const { index, held } = word
  const holder = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads')
     const i32 = workerData
     ${word.take}
     parentPort.postMessage('held')
     const end = Date.now() + 5000
     while (Atomics.load(i32, ${index}) === ${held} && Date.now() < end) Atomics.wait(i32, ${index}, ${held}, 1)
     const marked = Atomics.load(i32, ${index})
     ${word.release}
     parentPort.postMessage(marked)`,
    { eval: true, workerData: i32 },
  )
  const messages: unknown[] = []
  const marked = new Promise((resolve) => holder.on('message', (m) => (messages.push(m), messages.length === 2 && resolve(m))))
  try {
    await new Promise((resolve) => holder.once('message', resolve))
    wait()
    return await marked
  } finally {
    await holder.terminate()
  }
}
