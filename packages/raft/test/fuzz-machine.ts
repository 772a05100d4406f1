/**
 * The fuzzer's replicated state machine and the invariants it watches while it runs.
 *
 * The machine implements the semantics of `kvModel` (`@rony/testing/linearizability`) independently
 * of it: the model is the specification, this is the implementation the history checks.
 * Commands are a `KvInput` as JSON, and `apply` returns what the model says the client sees.
 */
import type { LogPosition, StateMachine } from '@rony/interface'
import type { KvInput, KvOutput } from '@rony/testing/linearizability'

const text = new TextEncoder()
const untext = new TextDecoder()

export const encodeCommand = (input: KvInput): Uint8Array => text.encode(JSON.stringify(input))

/**
 * A key-value map driven by committed `KvInput` commands. It reports every command it
 * applies to the {@link SafetyMonitor}, and checks that the node applies each entry once,
 * in order: its snapshots carry the index of the last command applied, so that a restore
 * tells where applying must resume.
 */
export class KvStateMachine implements StateMachine {
  readonly data = new Map<string, string>()
  readonly #server: string
  readonly #safety: SafetyMonitor
  /** The index of the last command applied (or restored). */
  #last = 0

  constructor(server: string, safety: SafetyMonitor) {
    this.#server = server
    this.#safety = safety
  }

  apply(command: Uint8Array, entry: LogPosition): KvOutput {
    const json = untext.decode(command)
    if (entry.index <= this.#last) {
      this.#safety.fail(`${this.#server} applied index ${entry.index} after ${this.#last}`)
    }
    this.#last = entry.index
    this.#safety.applied(this.#server, entry.index, entry.term, json)
    const input = JSON.parse(json) as KvInput
    const current = this.data.get(input.key) ?? null
    switch (input.op) {
      case 'get':
        return current
      case 'put':
        this.data.set(input.key, input.value)
        return true
      case 'append':
        this.data.set(input.key, (current ?? '') + input.value)
        return true
      case 'delete':
        this.data.delete(input.key)
        return true
      case 'cas': {
        if (current !== input.expected) return false
        this.data.set(input.key, input.next)
        return true
      }
    }
  }

  snapshot(): Uint8Array {
    return text.encode(JSON.stringify({ last: this.#last, data: [...this.data] }))
  }

  restore(bytes: Uint8Array): void {
    const { last, data } = JSON.parse(untext.decode(bytes)) as {
      last: number
      data: [string, string][]
    }
    this.#last = last
    this.data.clear()
    for (const [k, v] of data) this.data.set(k, v)
  }
}

/**
 * Raft's safety properties checked as they happen, across every server and every lifetime
 * of a server: a violation is recorded with the time and the servers involved, so the
 * report can point at the moment things went wrong rather than at the final state.
 */
export class SafetyMonitor {
  /** What was applied at each index (term and command), and by whom first. */
  readonly #applied = new Map<number, { entry: string; by: string }>()
  /** Who was reported leader of each term, and by whom first. */
  readonly #leaders = new Map<number, { leader: string; by: string }>()
  readonly violations: string[] = []
  readonly #now: () => number

  constructor(now: () => number) {
    this.#now = now
  }

  /** State machine safety: no two servers apply different commands at one index. */
  applied(server: string, index: number, term: number, command: string): void {
    const entry = `term ${term}: ${command}`
    const first = this.#applied.get(index)
    if (first === undefined) this.#applied.set(index, { entry, by: server })
    else if (first.entry !== entry) {
      this.#violate(
        `${server} applied [${entry}] at index ${index}, ${first.by} applied [${first.entry}]`,
      )
    }
  }

  /** Election safety: at most one leader per term, as every server reports it. */
  leader(server: string, leader: string, term: number): void {
    const first = this.#leaders.get(term)
    if (first === undefined) this.#leaders.set(term, { leader, by: server })
    else if (first.leader !== leader) {
      this.#violate(
        `${server} reports leader ${leader} for term ${term}, ${first.by} reported ${first.leader}`,
      )
    }
  }

  /** Anything else the harness finds wrong (a node that stopped by itself, divergence). */
  fail(message: string): void {
    this.#violate(message)
  }

  /** How many distinct indexes were applied, and the highest term with a leader. */
  summary(): { indexes: number; terms: number } {
    return { indexes: this.#applied.size, terms: Math.max(0, ...this.#leaders.keys()) }
  }

  #violate(message: string): void {
    this.violations.push(`t=${this.#now().toFixed(1)}: ${message}`)
  }
}
