/**
 * Cluster membership: who votes, who only replicates, what a quorum is, and which
 * configuration is in force.
 *
 * Changes are single-server (Raft thesis §4.1): each adds, removes, promotes or demotes one
 * server, so any majority of the old voters overlaps any majority of the new ones and no
 * joint consensus is needed. A server uses the latest configuration entry in its log as soon
 * as it is appended, committed or not (§4.1), and falls back to the previous one when that
 * entry is truncated by a new leader. The leader allows one uncommitted change at a time.
 *
 * @module
 */

import type { Configuration, LogEntry, ServerInfo, SnapshotMeta } from '../storage/types.js'

/** A membership change, proposed by {@link RaftCore.proposeConfChange}. */
export type ConfChange =
  /** Adds a voter, promotes a learner, or changes a voter's address. */
  | { readonly type: 'add-voter'; readonly server: ServerInfo }
  /** Adds a learner, or demotes a voter. */
  | { readonly type: 'add-learner'; readonly server: ServerInfo }
  /** Removes a voter or a learner. */
  | { readonly type: 'remove'; readonly id: string }

export const EMPTY_CONFIGURATION: Configuration = { voters: [], learners: [] }

export function isVoter(config: Configuration, id: string): boolean {
  return config.voters.some((s) => s.id === id)
}

export function isMember(config: Configuration, id: string): boolean {
  return isVoter(config, id) || config.learners.some((s) => s.id === id)
}

export function findServer(config: Configuration, id: string | undefined): ServerInfo | undefined {
  return [...config.voters, ...config.learners].find((s) => s.id === id)
}

/** Votes needed for a majority of the voters. */
export function quorum(config: Configuration): number {
  return Math.floor(config.voters.length / 2) + 1
}

/** The highest index that a majority of voters hold, given each voter's match index. */
export function quorumIndex(config: Configuration, match: (id: string) => number): number {
  if (config.voters.length === 0) return 0
  const sorted = config.voters.map((s) => match(s.id)).sort((a, b) => b - a)
  return sorted[quorum(config) - 1]!
}

/**
 * Election outcome from the voters' answers so far: a majority wins, or, with `unanimous`
 * (a founding election, see `RaftState.founding`), only every voter does.
 */
export function tally(
  config: Configuration,
  votes: ReadonlyMap<string, boolean>,
  unanimous = false,
): 'won' | 'lost' | 'pending' {
  let granted = 0
  let rejected = 0
  for (const s of config.voters) {
    const vote = votes.get(s.id)
    if (vote === true) granted++
    else if (vote === false) rejected++
  }
  const q = unanimous ? config.voters.length : quorum(config)
  if (granted >= q) return 'won'
  // One refusal loses a unanimous election.
  if (rejected >= (unanimous ? 1 : q)) return 'lost'
  return 'pending'
}

/**
 * The configuration after `change`, or why it cannot be made: `'unchanged'` when it is
 * already in force, `'unknown-server'` when removing a non-member, `'last-voter'` when it
 * would leave no voter.
 */
export function applyChange(
  config: Configuration,
  change: ConfChange,
): Configuration | 'unchanged' | 'unknown-server' | 'last-voter' {
  const id = change.type === 'remove' ? change.id : change.server.id
  const voters = config.voters.filter((s) => s.id !== id)
  const learners = config.learners.filter((s) => s.id !== id)
  let next: Configuration
  if (change.type === 'add-voter') next = { voters: [...voters, change.server], learners }
  else if (change.type === 'add-learner') next = { voters, learners: [...learners, change.server] }
  else if (!isMember(config, id)) return 'unknown-server'
  else next = { voters, learners }
  if (next.voters.length === 0) return 'last-voter'
  if (sameConfiguration(config, next)) return 'unchanged'
  return next
}

function sameConfiguration(a: Configuration, b: Configuration): boolean {
  const key = (c: Configuration) =>
    JSON.stringify([
      c.voters.map((s) => [s.id, s.address]).sort(),
      c.learners.map((s) => [s.id, s.address]).sort(),
    ])
  return key(a) === key(b)
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The bytes of a `'configuration'` entry. */
export function encodeConfiguration(config: Configuration): Uint8Array {
  const servers = (list: readonly ServerInfo[]) =>
    list.map((s) => ({ id: s.id, address: s.address }))
  return encoder.encode(
    JSON.stringify({ voters: servers(config.voters), learners: servers(config.learners) }),
  )
}

export function decodeConfiguration(data: Uint8Array): Configuration {
  const parsed = JSON.parse(decoder.decode(data)) as Configuration
  return { voters: parsed.voters, learners: parsed.learners }
}

interface Versioned {
  readonly index: number
  readonly configuration: Configuration
}

/**
 * The configuration in force and the history needed to roll it back: the base (from the
 * snapshot, or the bootstrap configuration at index 0) and every configuration entry in the
 * log after it.
 */
export class ConfigurationTracker {
  #base: Versioned
  #entries: Versioned[] = []

  constructor(base: Versioned, entries: readonly LogEntry[]) {
    this.#base = base
    this.onAppend(entries)
  }

  /** The configuration in force: the latest one in the log. */
  get current(): Configuration {
    return this.#latest().configuration
  }

  /** The index of the entry (or snapshot) {@link current} comes from; 0 for the bootstrap one. */
  get index(): number {
    return this.#latest().index
  }

  /**
   * Whether the configuration in force is a bootstrap one: no configuration entry is in the
   * log yet, so the group's first entry has not been written here.
   */
  get fromBootstrap(): boolean {
    return this.index === 0 && this.current.voters.length > 0
  }

  #latest(): Versioned {
    return this.#entries.at(-1) ?? this.#base
  }

  /** The configuration in force at `index` (for a snapshot's metadata). */
  at(index: number): Configuration {
    return (
      this.#entries.findLast((v) => v.index <= index)?.configuration ?? this.#base.configuration
    )
  }

  /**
   * Entries were written to the log from `entries[0].index` on, replacing any there:
   * configurations from truncated entries are rolled back, new ones take effect.
   *
   * @returns Whether the configuration in force changed.
   */
  onAppend(entries: readonly LogEntry[]): boolean {
    const first = entries[0]
    if (first === undefined) return false
    const before = this.#latest()
    this.#entries = this.#entries.filter((v) => v.index < first.index)
    for (const e of entries) {
      if (e.kind === 'configuration') {
        this.#entries.push({ index: e.index, configuration: decodeConfiguration(e.data) })
      }
    }
    return this.#latest() !== before
  }

  /** The log was compacted up to `index`: the configuration there becomes the base. */
  compact(index: number): void {
    this.#base = { index, configuration: this.at(index) }
    this.#entries = this.#entries.filter((v) => v.index > index)
  }

  /** The log was replaced by a snapshot. */
  restore(meta: SnapshotMeta): void {
    this.#base = { index: meta.index, configuration: meta.configuration }
    this.#entries = []
  }
}
