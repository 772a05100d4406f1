/**
 * The playground's four services (proto/demo/playground.proto) on one node's edge. Kv.Put,
 * Kv.Delete and Chat.Post are `replicated`: every node runs them in log order on its copy
 * of the state, with the leader's stamped time (`ctx.now()`), so every copy stays the same.
 * What a reply says about who served it (`Served`) is not state: it only shapes the answer
 * the leader relays to the edge that received the request.
 */
import type { Edge, RequestContext } from '@rony/edge'
import { encodeEnvelope, RonyError } from '@rony/envelope'
import type { GatewayConn } from '@rony/interface'
import { C_ChatMessage, Chat, Cluster, Control, demo, Kv } from '../gen/playground.js'
import type { ControlAction } from './ipc.ts'
import type { ChatLine, PlaygroundState } from './state.ts'
import type { ClusterWatch } from './watch.ts'

/** Most keys `Kv.List` and lines `Chat.History` answer. */
export const LIST_LIMIT = 100

export interface ServiceDeps {
  readonly edge: Edge
  readonly state: PlaygroundState
  readonly watch: ClusterWatch
  /** This node's last applied Raft index. */
  applied(): number
  /** The leader this node knows ("" when none). */
  leader(): string
  /** Asks the supervisor to act on a node; resolves with the node's process state after. */
  control(action: ControlAction): Promise<string>
  /** When this node came up (ms since the epoch): chat lines older than it are not pushed. */
  readonly startedAt: number
}

export function registerServices(deps: ServiceDeps): void {
  const { edge, state, watch } = deps
  const joined = new Set<GatewayConn>()
  edge.on('connection:close', (conn) => {
    joined.delete(conn)
    watch.forget(conn)
  })

  /** Who answered: for a replicated write, what the leader that applied it knows. */
  const served = (ctx: RequestContext): demo.Served => {
    const leader = deps.leader()
    return demo.Served.create({
      Node: ctx.receivedBy,
      Leader: leader,
      Forwarded: leader !== '' && ctx.receivedBy !== leader,
    })
  }
  const readServed = (): demo.Served =>
    demo.Served.create({ Node: edge.id, Leader: deps.leader(), Forwarded: false })

  const pushLine = (line: ChatLine): void => {
    // A node catching up applies old lines again: only lines posted since it came up go out.
    if (line.at < deps.startedAt || joined.size === 0) return
    const bytes = encodeEnvelope({
      ctor: C_ChatMessage,
      requestId: 0n,
      message: demo.ChatMessage.encode(chatMessage(line)).finish(),
    })
    for (const conn of joined) {
      if (conn.closed) joined.delete(conn)
      else conn.send(bytes.slice())
    }
  }

  const read = (key: string): demo.GetReply => {
    const entry = state.kv.get(key)
    return demo.GetReply.create({
      Value: entry?.value ?? '',
      Found: entry !== undefined,
      WrittenAt: entry?.at ?? 0,
      Applied: deps.applied(),
      Served: readServed(),
    })
  }

  edge.service(Kv, {
    put: (req, ctx) => {
      const previous = state.kv.get(req.Key)
      state.kv.set(req.Key, { value: req.Value, at: ctx.now() })
      return demo.PutReply.create({
        Previous: previous?.value ?? '',
        Existed: previous !== undefined,
        // Raft applies entry by entry: the one applying now is the next after the applied.
        Index: deps.applied() + 1,
        Served: served(ctx),
      })
    },
    delete: (req, ctx) => {
      const existed = state.kv.delete(req.Key)
      return demo.DeleteReply.create({
        Existed: existed,
        Index: deps.applied() + 1,
        Served: served(ctx),
      })
    },
    get: (req) => read(req.Key),
    getLocal: (req) => read(req.Key),
    list: (req) => {
      const limit = Math.min(req.Limit || LIST_LIMIT, LIST_LIMIT)
      const keys = [...state.kv.keys()].sort().slice(0, limit)
      return demo.ListReply.create({
        Entries: keys.map((key) => {
          const entry = state.kv.get(key)!
          return demo.Entry.create({ Key: key, Value: entry.value, WrittenAt: entry.at })
        }),
        Served: readServed(),
      })
    },
  })

  edge.service(Chat, {
    post: (req, ctx) => {
      if (req.Text === '') throw new RonyError('E04', 'TEXT', 'a chat message needs a text')
      const line = state.post({
        from: req.From || 'anonymous',
        text: req.Text,
        at: ctx.now(),
        via: ctx.receivedBy,
      })
      pushLine(line)
      return demo.PostReply.create({ Message: chatMessage(line), Served: served(ctx) })
    },
    history: (req) => {
      const limit = Math.min(req.Limit || LIST_LIMIT, LIST_LIMIT)
      return demo.HistoryReply.create({
        Messages: state.chat.slice(-limit).map(chatMessage),
        Served: readServed(),
      })
    },
    join: (_req, ctx) => {
      if (!ctx.conn.persistent) {
        throw new RonyError('E01', 'PUSH', 'Chat.Join needs a connection that carries pushes (ws)')
      }
      joined.add(ctx.conn)
      return demo.JoinReply.create({ Node: edge.id })
    },
  })

  edge.service(Cluster, {
    watch: (req, ctx) => {
      if (req.Watch) watch.watch(ctx.conn)
      return watch.view()
    },
    events: (req) => demo.EventsReply.create({ Events: watch.recent(req.Limit) }),
    ping: () => demo.PingReply.create({ Node: edge.id, At: Date.now() }),
  })

  const answer = async (action: ControlAction): Promise<demo.ControlReply> =>
    demo.ControlReply.create({ Node: action.node, Process: await deps.control(action) })
  // Kill and Restart share their request type: served under their method ids only.
  edge.service(
    Control,
    {
      kill: (req) => answer({ action: 'kill', node: req.Node }),
      restart: (req) => answer({ action: 'restart', node: req.Node }),
      pause: (req) => answer({ action: 'pause', node: req.Node, seconds: req.Seconds || 5 }),
      isolate: (req) => answer({ action: 'isolate', node: req.Node, on: req.On }),
    },
    { byRequestType: false },
  )
}

function chatMessage(line: ChatLine): demo.ChatMessage {
  return demo.ChatMessage.create({
    Seq: line.seq,
    From: line.from,
    Text: line.text,
    At: line.at,
    Via: line.via,
  })
}
