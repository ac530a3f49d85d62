/*
 * The layout of a shared database's control block, in Int32 words: the header, one slot per
 * thread, one per lock, the per-(thread, lock) words and the parentage pairs. `SharedMemory`
 * (./memory.ts, its thread slots in ./thread-slots.ts) reads and writes them; the locks and the
 * reaper name the lock words.
 */

/** Most threads attached to one shared database at once. */
export const MAX_THREADS = 64
/** Most locks (tables created over the database's life, plus the catalog lock). */
export const MAX_LOCKS = 1024
/** Lock slot of the catalog (table creation and removal). */
export const CATALOG_LOCK = 0

export const MAGIC = 0x44444232 // "DDB2" (was "DDB1" before the protocol word: builds without it refuse these blocks)

/**
 * Words that different threads write often are kept at least {@link APART} words (64 bytes, a
 * cache line) from each other, whatever the buffer's place within a line: Node does not
 * line-align a `SharedArrayBuffer` (a large one starts 16 bytes past a line, after glibc's
 * chunk header; a probe found the lines of the control block starting at words 12, 28, 44…), so
 * a layout that counted lines from word 0 put words meant for different lines on one. The
 * groups, each written by one party (tests/shared/layout.test.ts checks the distances):
 * - the commit word and the ring's head (the append mutex's holder);
 * - each thread's slot, and each thread's per-lock words (read grants, waits, async holds);
 * - each lock's words (every thread using that table writes them: they share a line by design);
 * - the rarely written header words and the parentage pairs.
 */
export const APART = 16

// Header, in Int32 words. 64-bit positions live in the BigInt64 view at word/2.
// - words 0 to 12: written once or rarely (magic, closed, lock slots, snapshot bookkeeping);
// - words 32 to 35: the commit word, which is also the append mutex (see ./append-mutex.ts), and
//   the ring's head: written by the append mutex's holder, read by every thread catching up or
//   checking for news. One line moves between the writers' cores per append, not two. Words 13
//   to 31, 33 and 36 to 63 are free: they keep other words off that line.
export const H_MAGIC = 0
/**
 * The version of the shared protocol ({@link PROTOCOL}) that made this block. A worker may load
 * another build of dictdb than the thread that made the database (another copy in its
 * `node_modules`); with another layout or log format it would misread every word, so it refuses
 * the handle instead.
 */
export const H_PROTOCOL = 1
/**
 * Bump whenever the control block's layout, the meaning of a word, or the log's entry or
 * snapshot format changes.
 */
export const PROTOCOL = 14
export const H_SNAP_SEQ = 2 // snapshot seqlock: odd while a snapshot is being written
export const H_CLOSED = 3
export const H_SNAP_POS = 4 // i64: log position the snapshot reflects
export const H_SNAP_LEN = 6 // i64: snapshot bytes (the buffer may grow past 2 GiB)
export const H_SNAP_MUTEX = 8 // snapshot writer mutex (guard protocol): writers encode outside the append mutex
export const H_NEXT_LOCK = 9
export const H_SNAPSHOTS = 10 // snapshots written so far
export const H_FOLLOWERS = 11 // threads waiting for the next commit (live queries, change feeds): appends notify only then
export const H_TICKETS = 12 // deadlock tickets handed out (one per transaction that lost a deadlock; see locks/wait-graph.ts)
export const H_SNAP_TAKING = 14 // i64: log position of the snapshot being encoded, else the snapshot's (see SnapshotWriter.write)
export const H_HEAD = 34 // i64: oldest byte position still in the ring
/**
 * The commit word: the log's tail (end of the last committed entry, a multiple of 8) in 8-byte
 * units, modulo 2^30, shifted left by 2 (the count), and in its low 2 bits the append mutex
 * (`COMMIT_LOCKED`, `COMMIT_SLEEPER`: see ./append-mutex.ts). Readers mask those bits. Compared
 * for equality, the count is the cheap "anything new?" check; with a position known to be at
 * most 8 GiB below the tail, it gives the tail (see `SharedMemory.commits`, `tailAfter`).
 */
export const H_COMMITS = 32
export const HEADER_WORDS = 64

// Per thread slot.
export const T_STATE = 0 // 0 free, 1 attached
export const T_THREAD_ID = 1
export const T_WAITING = 2 // lock slot this thread waits for synchronously (all of it is blocked), or -1
export const T_TICKET = 3 // deadlock ticket of this thread's transaction once it lost a deadlock, or 0 (see locks/wait-graph.ts)
export const T_APPLIED = 4 // f64 (8-byte aligned): log position applied by this replica, a hint (see SharedMemory.applied)
export const T_STALE = 6 // 1 when the ring overtook this replica: it must rebuild from the snapshot
export const T_FOLLOWS = 7 // this thread's waits counted in H_FOLLOWERS (the reaper takes back a dead thread's)
/**
 * 1 while this thread holds the append mutex, else 0: set right after the compare-and-swap that
 * takes it and cleared right after the swap that lets go, so the reaper frees the mutex of a dead
 * thread by it (see ./append-mutex.ts). Beside `T_APPLIED`, also written on every append.
 */
export const T_APPENDING = 8
export const T_RECORDS = 9 // ASYNC_RECORDS words: the lock slot one async holder of this thread waits for, or -1
/** Async waits of one thread that the deadlock detector sees (more still wait, unseen by it). */
export const ASYNC_RECORDS = 32
/** Words of a thread slot in use ({@link T_RECORDS} and the records last). */
export const THREAD_USED = T_RECORDS + ASYNC_RECORDS
/**
 * A slot's words in use, then {@link APART} or more free ones: a thread's applied position,
 * written on every append and catch-up, shares its line with no other thread's words.
 */
export const THREAD_WORDS = 64

// Per lock slot.
export const L_GUARD = 0 // tiny spin guard over the other fields: 0 free, else slot + 1
export const L_VERSION = 1 // bumped and notified on every release
export const L_WRITER = 2 // writer slot + 1, or 0
export const L_WRITER_DEPTH = 3
export const L_READERS = 4 // total read grants, all threads
export const L_WRITERS_WAITING = 5
export const L_WAITERS = 6 // waits in flight on this lock (any mode): release notifies only if > 0
export const L_STAT_WAITS = 8 // statistics, every thread: acquisitions that had to wait
export const L_STAT_TIMEOUTS = 9
export const L_STAT_WAITED_US = 10 // i64 (lock slots are 32 words, so this is 8-byte aligned): µs waited
export const L_STAT_DEADLOCKS = 12 // transactions re-run after losing a deadlock here
/** Words of a lock slot in use. */
export const LOCK_USED = 13
/** A lock's words in use, then {@link APART} or more free ones: two tables' lock words never share a line. */
export const LOCK_WORDS = 32

/** Per (lock, thread) wait word: waits in flight (low 16 bits) and, of these, registered writers. */
export const WAIT_ONE = 1
export const WAIT_WRITER = 0x10000


/** Pairs (child thread id, parent thread id): a worker dies with its parent, and must be reaped with it. */
export const MAX_PARENTS = 1024

/**
 * Per (thread, lock) words, grouped by thread: thread `t`'s read grants on every lock, then its
 * waits, then its async holds ({@link MAX_LOCKS} words each), then twice {@link APART} free
 * words (128 bytes: a line, and the neighbour that CPUs fetch in pairs) before the next thread's. Only thread `t` writes them (and the reaper, once `t` is dead), so
 * one thread's read-lock traffic never moves a line another thread writes. (Grouped by lock, as
 * before, 16 threads' read grants on one table shared each line.)
 */
export const THREAD_LOCKS_WORDS = 3 * MAX_LOCKS + 2 * APART
export const TL_READERS = 0
export const TL_WAITS = MAX_LOCKS
export const TL_HOLDS = 2 * MAX_LOCKS

export const THREADS_BASE = HEADER_WORDS
export const LOCKS_BASE = THREADS_BASE + MAX_THREADS * THREAD_WORDS
export const THREAD_LOCKS_BASE = LOCKS_BASE + MAX_LOCKS * LOCK_WORDS
export const PARENTS_BASE = THREAD_LOCKS_BASE + MAX_THREADS * THREAD_LOCKS_WORDS
export const CONTROL_WORDS = PARENTS_BASE + MAX_PARENTS * 2
