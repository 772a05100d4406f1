/**
 * What the supervisor and its node processes say to each other over the child-process IPC
 * channel (structured clone of plain objects). Data between the page and the cluster never
 * goes this way: the page talks to the nodes only through @rony/client.
 */

/** How the supervisor starts a node: passed as JSON in `argv[2]`. */
export interface NodeConfig {
  readonly id: string
  readonly host: string
  /** The page, the HTTP gateway (`POST /`) and the WebSocket gateway (`/ws`). */
  readonly httpPort: number
  /** Gossip, UDP and TCP. */
  readonly gossipPort: number
  readonly raftPort: number
  readonly tunnelPort: number
  /** Gossip addresses of the other nodes. */
  readonly seeds: readonly string[]
  /**
   * The cluster's gossip key (32 bytes, base64), one per supervisor: a node of another
   * cluster at an address this one still knows (a stale seed, a port taken over) is refused.
   */
  readonly gossipKey: string
  readonly bootstrapExpect: number
  /** This node's Raft data directory. */
  readonly dataDir: string
  /** The page's static files (index.html, style.css, …). */
  readonly publicDir: string
  /** The bundled page script, served as `/page.js`. */
  readonly pageScript: string
}

/** A node's Raft state as it reports it. */
export interface RaftReport {
  readonly role: string
  readonly term: number
  readonly commit: number
  readonly applied: number
  readonly leader: string
  /** ms since the epoch. */
  readonly at: number
}

export interface ClusterEventInfo {
  readonly at: number
  readonly kind: string
  readonly node: string
  readonly text: string
}

/** One row of the table the supervisor fans out to every node. */
export interface NodeRow {
  readonly id: string
  readonly process: string
  readonly gateways: readonly string[]
  readonly raft: RaftReport | undefined
}

export type ControlAction =
  | { readonly action: 'kill' | 'restart'; readonly node: string }
  | { readonly action: 'pause'; readonly node: string; readonly seconds: number }
  | { readonly action: 'isolate'; readonly node: string; readonly on: boolean }

/**
 * The exit code of a node that could not bind one of its ports (another process holds it);
 * it says which first, with a `port-taken` message.
 */
export const PORT_TAKEN_EXIT = 75

/** Node → supervisor. */
export type NodeMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'port-taken'; readonly port: number }
  | { readonly type: 'raft'; readonly report: RaftReport }
  | { readonly type: 'event'; readonly event: ClusterEventInfo }
  | { readonly type: 'control'; readonly ref: number; readonly control: ControlAction }

/** Supervisor → node. */
export type SupervisorMessage =
  | { readonly type: 'table'; readonly nodes: readonly NodeRow[] }
  | { readonly type: 'event'; readonly event: ClusterEventInfo }
  | { readonly type: 'isolate'; readonly on: boolean }
  | {
      readonly type: 'control:done'
      readonly ref: number
      readonly node: string
      readonly process: string
      readonly error?: string
    }
