import type { ClusterServer, Consensus, Logger } from '@rony/interface'
import type { ChangeNotifier } from './changes.js'
import type { Directory } from './directory.js'
import { type ClusterMember, isLive } from './member.js'

export interface FormationInit {
  readonly id: string
  readonly replicaSet: number
  /** How many edges of the set found the group together. */
  readonly bootstrapExpect: number
  /** The most voters the set has; later edges stay learners. */
  readonly maxVoters: number
  readonly consensus: Consensus
  readonly directory: Directory
  readonly changes: ChangeNotifier
  readonly log: Logger
}

/** How often the membership is looked at again without a change to wake it, in ms. */
const IDLE_MS = 1000

/**
 * Forms a replica set's Raft group from what gossip shows, and keeps its configuration in
 * step with the set's edges:
 * - in no group: once `bootstrapExpect` edges of the set (this one among them) are seen
 *   alive and none of them is in a group yet, the one with the smallest id bootstraps the
 *   group with the `bootstrapExpect` smallest ids; the others wait to be replicated to. Two
 *   edges that see different sets may both bootstrap; Raft's first election needs every
 *   founder's vote, so at most one of them forms a group;
 * - as the leader: an edge of the set that is alive and not in the group is added as a
 *   learner; a learner that has received the configuration that added it is promoted while
 *   the group has fewer than `maxVoters` voters; an edge that left gracefully is removed;
 *   a changed Raft address is updated. A failed edge is never removed: it may come back,
 *   and removing failed voters automatically would let a partition shrink the quorum of
 *   each side until both sides commit (`edge.cluster.remove(id)` is the operator's tool).
 * One change at a time, each awaited.
 */
export class Formation {
  private stopped = false
  private running: Promise<void> | undefined
  private readonly abort = new AbortController()

  constructor(private readonly init: FormationInit) {}

  start(): void {
    this.running ??= this.loop()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.abort.abort()
    await this.running
  }

  private async loop(): Promise<void> {
    const { changes, log } = this.init
    while (!this.stopped) {
      let changed = false
      try {
        changed = await this.step()
      } catch (error) {
        if (!this.stopped && log.warn.enabled) log.warn('replica set membership: %s', error)
      }
      if (!changed && !this.stopped) await changes.next(IDLE_MS, this.abort.signal)
    }
  }

  /** One look at the set; true when it changed the group (so look again at once). */
  private async step(): Promise<boolean> {
    const { consensus } = this.init
    const configuration = consensus.configuration()
    if (configuration.length === 0) return this.maybeBootstrap()
    if (consensus.role !== 'leader') return false
    const change = this.nextChange(configuration)
    if (change === undefined) return false
    if (this.init.log.enabled) this.init.log('replica set: %s', change.describe)
    await change.run({ signal: this.abort.signal })
    return true
  }

  private async maybeBootstrap(): Promise<boolean> {
    const { id, bootstrapExpect, consensus, directory, replicaSet } = this.init
    const members = directory
      .replicaSet(replicaSet)
      .filter((m) => isLive(m) && m.raft !== undefined)
    // Someone is in a group already (it has a term, a leader, a role): wait to be added.
    if (members.some((m) => m.term > 0 || m.leader !== undefined || m.role !== 'follower')) {
      return false
    }
    if (members.length < bootstrapExpect) return false
    const founders = members.sort(byId).slice(0, bootstrapExpect)
    if (founders[0]?.id !== id) return false
    if (this.init.log.enabled) {
      this.init.log('bootstrapping the group with %s', founders.map((m) => m.id).join(', '))
    }
    await consensus.bootstrap(founders.map((m) => ({ id: m.id, address: m.raft as string })))
    return true
  }

  /** The leader's next change to the configuration, if any. */
  private nextChange(configuration: readonly ClusterServer[]): Change | undefined {
    const { consensus, directory, id, maxVoters, replicaSet } = this.init
    const servers = new Map(configuration.map((s) => [s.id, s]))
    const members = directory.replicaSet(replicaSet)
    for (const m of members) {
      if (m.state === 'left' && m.id !== id && servers.has(m.id)) {
        return change(`removing ${m.id}, which left`, (o) => consensus.removeServer(m.id, o))
      }
    }
    for (const m of members) {
      if (!isLive(m) || m.raft === undefined) continue
      const server = servers.get(m.id)
      if (server === undefined) {
        return change(`adding ${m.id} as a learner`, (o) =>
          consensus.addLearner(m.id, m.raft as string, o),
        )
      }
      if (server.address !== m.raft && m.id !== id) {
        const add = server.suffrage === 'voter' ? consensus.addVoter : consensus.addLearner
        return change(`moving ${m.id} to ${m.raft}`, (o) =>
          add.call(consensus, m.id, m.raft as string, o),
        )
      }
    }
    const voters = configuration.filter((s) => s.suffrage === 'voter').length
    if (voters >= maxVoters) return undefined
    for (const server of configuration) {
      if (server.suffrage !== 'learner') continue
      const m = directory.member(server.id)
      if (m !== undefined && caughtUp(m)) {
        return change(`promoting ${server.id} to voter`, (o) =>
          consensus.addVoter(server.id, server.address, o),
        )
      }
    }
    return undefined
  }
}

interface Change {
  readonly describe: string
  readonly run: (opts: { signal: AbortSignal }) => Promise<void>
}

function change(describe: string, run: Change['run']): Change {
  return { describe, run }
}

/**
 * A learner that reports itself as one has the configuration entry that added it, so it
 * holds the log up to there: promoting it does not make the group wait for a copy of it.
 */
function caughtUp(member: ClusterMember): boolean {
  return isLive(member) && member.role === 'learner'
}

function byId(a: ClusterMember, b: ClusterMember): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}
