/**
 * What the gossip suite needs from a cluster, whatever runs it (serf agents, @rony/gossip
 * nodes in worker processes, a simulation): every node's membership events land in one
 * `Views` tracker, timed when this process receives them, and the measurements are
 * predicates over those views, awaited with a bound.
 */
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
