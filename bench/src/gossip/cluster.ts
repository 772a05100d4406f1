/**
 * What the gossip suite needs from a cluster, whatever runs it (serf agents, @rony/gossip
 * nodes in worker processes, a simulation): every node's membership events land in one
 * `Views` tracker, timed when this process receives them, and the measurements are
 * predicates over those views, awaited with a bound.
 */
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'

export type State = 'alive' | 'failed' | 'left'

/** A running cluster of one implementation, driven by the suite. */
export interface Cluster {
  readonly views: Views
  /** Starts `ids` (the first is the seed, the others join through it); resolves once all run. */
  startInitial(ids: string[]): Promise<void>
  /** Starts node `id` and its join through the seed; resolves with the join's start time (ms). */
  join(id: string): Promise<number>
  /** SIGKILLs the process of node `id` (it runs alone in it); resolves with the kill time (ms). */
  kill(id: string): Promise<number>
  /** Suspicions raised by a node's own failed probe so far (memberlist: "Suspect X has failed"). */
  suspicionsRaised(): Promise<number>
  /** Reads the members lists through the implementation's own API; a mismatch as text. */
  crossCheck(ids: string[]): Promise<string | undefined>
  /** The implementation's own UDP counters, summed over the nodes (rony only). */
  counters?(): Promise<{ bytesSent: number; packetsSent: number }>
  /** Kills everything it started; never throws. */
  close(): Promise<void>
}

/** Every observer's view of every member, with the time of the last change. */
export class Views {
  readonly #views = new Map<string, Map<string, { state: State; at: number }>>()
  readonly #waiters = new Set<() => void>()
  /** `failed` records, in order (for detection times and false positives). */
  readonly failures: { observer: string; member: string; at: number }[] = []

  readonly now: () => number

  constructor(now: () => number = Date.now) {
    this.now = now
  }

  record(observer: string, member: string, state: State): void {
    let view = this.#views.get(observer)
    if (!view) {
      view = new Map()
      this.#views.set(observer, view)
    }
    const at = this.now()
    view.set(member, { state, at })
    if (state === 'failed') this.failures.push({ observer, member, at })
    for (const wake of this.#waiters) wake()
  }

  state(observer: string, member: string): State | undefined {
    return observer === member ? 'alive' : this.#views.get(observer)?.get(member)?.state
  }

  /** Every node in `ids` sees every node in `ids` alive (itself included). */
  converged(ids: readonly string[]): boolean {
    return ids.every((o) => ids.every((m) => this.state(o, m) === 'alive'))
  }

  /** Every survivor sees `victim` failed. */
  detected(survivors: readonly string[], victim: string): boolean {
    return survivors.every((o) => this.state(o, victim) === 'failed')
  }

  /**
   * Resolves with the time `check` first held (checked on every record), or undefined when
   * `ms` (real time) passed first.
   */
  async until(check: () => boolean, ms: number): Promise<number | undefined> {
    if (check()) return this.now()
    return new Promise((resolve) => {
      const wake = (): void => {
        if (!check()) return
        done(this.now())
      }
      const done = (at: number | undefined): void => {
        clearTimeout(timer)
        this.#waiters.delete(wake)
        resolve(at)
      }
      const timer = setTimeout(() => done(undefined), ms)
      this.#waiters.add(wake)
    })
  }
}

/** Loopback interface counters (tx side: on `lo` every packet is counted once sent, once received). */
export interface LoCounters {
  bytes: number
  packets: number
}

export function readLo(): LoCounters | undefined {
  try {
    const line = readFileSync('/proc/net/dev', 'utf8')
      .split('\n')
      .find((l) => l.trim().startsWith('lo:'))
    if (!line) return undefined
    const f = line.split(':')[1]?.trim().split(/\s+/).map(Number) ?? []
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets …
    return { bytes: f[8] as number, packets: f[9] as number }
  } catch {
    return undefined
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** `n` ids with a prefix: s0…, n0…. */
export const ids = (n: number, prefix: string): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`)

/**
 * Membership views at large N, kept as counts: per observer the number of other members it
 * sees alive and when that number last changed, plus every `failed`. Fed either one change at
 * a time (serf's log lines: `event`) or by reporters that count for their own nodes
 * (`count`, `failed`: @rony/gossip workers, which would otherwise send N² events).
 */
export class Tally {
  readonly #alive = new Map<string, { count: number; at: number; peak: number }>()
  readonly #members = new Map<string, Set<string>>()
  /** `failed` records, in order (for detection times and false positives). */
  readonly failures: { observer: string; member: string; at: number }[] = []

  event(observer: string, member: string, state: State, at = Date.now()): void {
    let members = this.#members.get(observer)
    if (!members) {
      members = new Set()
      this.#members.set(observer, members)
    }
    const size = members.size
    if (state === 'alive') members.add(member)
    else members.delete(member)
    if (state === 'failed') this.failed(observer, member, at)
    if (members.size !== size) this.count(observer, members.size, at)
  }

  count(observer: string, others: number, at: number): void {
    const peak = Math.max(others, this.#alive.get(observer)?.peak ?? 0)
    this.#alive.set(observer, { count: others, at, peak })
  }

  failed(observer: string, member: string, at: number): void {
    this.failures.push({ observer, member, at })
  }

  /**
   * When every one of `observers` saw `others` other members alive: the latest of their
   * last changes (exact while nobody sees more than `others`); undefined until then.
   */
  fullAt(observers: readonly string[], others: number): number | undefined {
    let last = 0
    for (const o of observers) {
      const seen = this.#alive.get(o)
      if (!seen || seen.count < others) return undefined
      last = Math.max(last, seen.at)
    }
    return last
  }

  /**
   * How far `observers` are from seeing `others` alive: how many do, the fewest seen, how
   * many see nobody now, and how many of those never saw anyone (their join never got through).
   */
  progress(
    observers: readonly string[],
    others: number,
  ): { full: number; fewest: number; none: number; never: number } {
    let full = 0
    let fewest = Infinity
    let none = 0
    let never = 0
    for (const o of observers) {
      const seen = this.#alive.get(o)
      const count = seen?.count ?? 0
      if (count >= others) full++
      if (count === 0) none++
      if (!seen?.peak) never++
      fewest = Math.min(fewest, count)
    }
    return { full, fewest, none, never }
  }

  /** Times after `since` at which each of `survivors` had `victim` failed, sorted; undefined until all did. */
  detected(survivors: readonly string[], victim: string, since: number): number[] | undefined {
    const first = new Map<string, number>()
    for (const f of this.failures) {
      if (f.member === victim && f.at >= since && !first.has(f.observer)) {
        first.set(f.observer, f.at - since)
      }
    }
    const times: number[] = []
    for (const s of survivors) {
      const t = first.get(s)
      if (t === undefined) return undefined
      times.push(t)
    }
    return times.sort((a, b) => a - b)
  }

  /** How many of `survivors` had `victim` failed after `since`. */
  detectedBy(survivors: readonly string[], victim: string, since: number): number {
    const seen = new Set(
      this.failures.filter((f) => f.member === victim && f.at >= since).map((f) => f.observer),
    )
    return survivors.filter((s) => seen.has(s)).length
  }
}

/** The kernel's UDP counters (/proc/net/snmp), system-wide: datagrams in, and those dropped. */
export interface UdpCounters {
  inDatagrams: number
  rcvbufErrors: number
  inErrors: number
}

export function readUdp(): UdpCounters | undefined {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'))
    const names = lines[0]?.split(/\s+/) ?? []
    const values = lines[1]?.split(/\s+/).map(Number) ?? []
    const get = (name: string): number => values[names.indexOf(name)] ?? Number.NaN
    return {
      inDatagrams: get('InDatagrams'),
      rcvbufErrors: get('RcvbufErrors'),
      inErrors: get('InErrors'),
    }
  } catch {
    return undefined
  }
}

/** A process's CPU (user + system, ms) and resident memory (bytes), from /proc; undefined once it is gone. */
export function readProc(pid: number): { cpuMs: number; rss: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(f[11]) + Number(f[12]) // utime, stime (fields 14, 15)
    const rssPages = Number(f[21]) // field 24
    return { cpuMs: ticks * 10, rss: rssPages * 4096 } // USER_HZ 100, 4 KiB pages
  } catch {
    return undefined
  }
}

/** The 1-minute load average. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])
  } catch {
    return Number.NaN
  }
}

/** Every child of the gossip suites until it exits; `group`: it leads a process group to kill. */
const children = new Map<ChildProcess, boolean>()

function killHard(child: ChildProcess, group: boolean): void {
  if (group && child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {}
  }
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}

function killAll(): void {
  for (const [child, group] of children) killHard(child, group)
}

process.once('exit', killAll)

/** Ctrl-C or a stop while children run: no node or agent outlives the bench. */
function onSignal(signal: NodeJS.Signals): void {
  killAll()
  process.exit(signal === 'SIGINT' ? 130 : 143)
}

/**
 * Tracks `child` until it exits; it is SIGKILLed (its process group too with `group`) when
 * this process exits or gets SIGINT/SIGTERM (handled only while children run), or by `kill`.
 */
export function track(child: ChildProcess, group = false): void {
  if (children.size === 0) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  }
  children.set(child, group)
  child.once('exit', () => {
    children.delete(child)
    if (children.size > 0) return
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  })
}

/** SIGKILLs `child` (and its group when tracked so); resolves once it exited, or after 5 s. */
export function kill(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(resolve, 5_000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    killHard(child, children.get(child) ?? false)
  })
}
