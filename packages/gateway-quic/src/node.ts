import { quic } from '@chainsafe/libp2p-quic'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey, StreamHandler } from '@libp2p/interface'
import type { Logger } from '@rony/interface'
import { createLibp2p } from 'libp2p'
import type { ResolvedQuicOptions } from './options.js'

/**
 * The libp2p side of the gateway: a minimal node (QUIC transport only, no services, no
 * connection monitor, no peer discovery) that serves one protocol, and a stop that cannot
 * hang.
 */

/** What `startNode` returns: the node and the stream handler's protocol. */
export interface RunningNode {
  readonly node: Libp2p
  readonly protocol: string
}

/** A fresh Ed25519 identity for a gateway started without `privateKey`. */
export function generateIdentity(): Promise<PrivateKey> {
  return generateKeyPair('Ed25519')
}

/**
 * Creates, configures and starts a libp2p node listening on `opts.listen` that hands every
 * inbound stream of `opts.protocol` to `handler`. Rejects (and leaves nothing running) if
 * it cannot listen.
 */
export async function startNode(
  opts: ResolvedQuicOptions,
  privateKey: PrivateKey,
  handler: StreamHandler,
): Promise<RunningNode> {
  const node = await createLibp2p({
    privateKey,
    start: false,
    addresses: { listen: [...opts.listen] },
    transports: [
      quic({
        // One stream per rony connection, plus a spare for the peer's bookkeeping.
        maxConcurrentStreamLimit: opts.maxStreams + 1,
        ...opts.transport,
      }),
    ],
    connectionManager: {
      maxConnections: opts.maxConnections,
      inboundConnectionThreshold: opts.inboundConnectionThreshold,
      maxIncomingPendingConnections: opts.maxIncomingPendingConnections,
    },
    // Pings over /ipfs/ping would need the ping service; QUIC keepalives detect dead peers.
    connectionMonitor: { enabled: false },
  })
  try {
    await node.handle(opts.protocol, handler, {
      maxInboundStreams: opts.maxStreams,
      // Outbound streams: the gateway opens none.
      maxOutboundStreams: 1,
    })
    await node.start()
  } catch (err) {
    await stopNode(node, opts.nodeStopTimeout, opts.logger, opts.name)
    throw err
  }
  return { node, protocol: opts.protocol }
}

/** Listening multiaddrs, each ending in `/p2p/<peerId>`. */
export function nodeAddresses(node: Libp2p): string[] {
  const peer = node.peerId.toString()
  return node.getMultiaddrs().map((ma) => {
    const text = ma.toString()
    return text.includes('/p2p/') ? text : `${text}/p2p/${peer}`
  })
}

/**
 * Stops `node` in at most `timeoutMs`: aborts every connection first (a stalled peer then
 * has nothing left to wait for), then races `node.stop()` against the timeout. If the node
 * does not finish in time (libp2p-quic's endpoint can wait for peers that never answer), it
 * is left to finish in the background and the call resolves `false`; its eventual error is
 * logged, never thrown.
 */
export async function stopNode(
  node: Libp2p,
  timeoutMs: number,
  log: Logger,
  name: string,
): Promise<boolean> {
  for (const connection of node.getConnections()) {
    try {
      connection.abort(new Error('gateway stopping'))
    } catch (err) {
      log.error('%s: aborting a connection threw: %o', name, err)
    }
  }
  const stopped = Promise.resolve(node.stop()).then(
    () => true,
    (err: unknown) => {
      log.error('%s: libp2p stop failed: %o', name, err)
      return true
    },
  )
  let timer: ReturnType<typeof setTimeout> | undefined
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  const done = await Promise.race([stopped, timedOut])
  clearTimeout(timer)
  if (!done) log.error('%s: libp2p did not stop within %d ms; giving up on it', name, timeoutMs)
  return done
}
