/**
 * One Raft node driven message by message: n1 of a three-server cluster (n2 leads term 1),
 * with a fake transport, so that a test plays the network and the leader.
 */
import type { StateMachine } from '@rony/interface'
import type { VirtualClock } from '@rony/transport'
import type { Message } from '../src/core/messages.js'
import { type LogEntry, type LogStorage, type RaftNode, raft } from '../src/index.js'

const peers = [
  { id: 'n2', address: 'memory:n2' },
  { id: 'n3', address: 'memory:n3' },
]
export const configuration = {
  voters: [{ id: 'n1', address: 'memory:n1' }, ...peers],
  learners: [],
}
/** The envelope of a message from n2, the leader of term 1. */
export const fromLeader = { from: 'n2', to: 'n1', term: 1 } as const

export const entry = (index: number): LogEntry => ({
  index,
  term: 1,
  kind: 'command',
  data: new Uint8Array([index]),
})

/** The leader's AppendEntries carrying entries 1 to `count`, all committed already. */
export const committedEntries = (count: number): Message => ({
  ...fromLeader,
  type: 'append-entries',
  prevIndex: 0,
  prevTerm: 0,
  entries: Array.from({ length: count }, (_, i) => entry(i + 1)),
  commit: count,
})

export const stateless: StateMachine = {
  apply: () => undefined,
  snapshot: () => new Uint8Array(),
  restore: () => {},
}

export interface Follower {
  readonly node: RaftNode
  /** Hands the node a message, as its transport would. */
  deliver(message: Message): void
  /** What the node sent, in order. */
  readonly sent: Message[]
  /** What the node logged as errors (a fatal error stops it). */
  readonly errors: unknown[]
}

/** Starts n1 of a three-server cluster; the test plays the network and the leader. */
export async function follower(
  clock: VirtualClock,
  storage: LogStorage,
  machine: StateMachine,
): Promise<Follower> {
  const sent: Message[] = []
  const errors: unknown[] = []
  let onMessage: (message: Message) => void = () => {}
  const silent = Object.assign(() => {}, { enabled: false })
  const error = Object.assign((...args: unknown[]) => void errors.push(args), { enabled: true })
  const node = raft({
    id: 'n1',
    bind: 'memory:n1',
    peers,
    bootstrap: true,
    storage,
    stateMachine: machine,
    clock,
    snapshotThreshold: 1,
    transport: {
      address: 'memory:n1',
      start: async (handler) => {
        onMessage = handler
      },
      send: (_to, message) => void sent.push(message),
      stop: async () => {},
      stats: () => ({ queueDrops: 0, malformed: 0 }),
    },
    logger: {
      forComponent: () =>
        Object.assign(() => {}, { enabled: false, error, warn: silent, trace: silent }),
    },
  })
  await node.start()
  return { node, sent, errors, deliver: (message) => onMessage(message) }
}
