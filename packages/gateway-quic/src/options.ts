import type { QuicOptions } from '@chainsafe/libp2p-quic'
import type { PrivateKey } from '@libp2p/interface'
import { DEFAULT_LIMITS } from '@rony/envelope'
import { disabledLogger, integerOption, type Logger } from '@rony/interface'

/**
 * QUIC application codes the gateway reports in `onClose` (`CloseReason.code`) and accepts
 * in `conn.close(code)`. libp2p streams carry no application error code on the wire: the
 * peer sees its stream end (FIN after the queued frames) or reset, never the number. The
 * codes are for the edge's logs and metrics.
 */
export const QUIC_CLOSE_CODES = Object.freeze({
  /** Normal closure: `close()` without a code, the idle timeout, the peer ended its stream. */
  NORMAL: 0,
  /** The gateway is stopping. */
  GOING_AWAY: 1,
  /** Malformed framing (a length prefix longer than 5 bytes, a stream that ended inside a frame). */
  PROTOCOL_ERROR: 2,
  /** A frame announced more than `maxMessageSize` bytes. */
  MESSAGE_TOO_BIG: 3,
  /** The outbound queue passed `maxBufferedBytes`: the peer does not read. */
  SLOW_CONSUMER: 4,
  /** Refused: too many connections, or the gateway is not accepting. */
  TRY_AGAIN_LATER: 5,
})

/** Options of {@link quicGateway}. Sizes are in bytes, durations in milliseconds. */
export interface QuicGatewayInit {
  /** Gateway name, used in logs and connection keys; unique within one edge. Default `'quic'`. */
  name?: string | undefined
  /**
   * Multiaddrs to listen on; UDP port `0` picks a free port (see `addresses()`).
   * Default `['/ip4/127.0.0.1/udp/0/quic-v1']` (loopback only).
   */
  listen?: readonly string[] | undefined
  /**
   * The node's libp2p identity (its peer id is the `/p2p/…` part of every address), e.g.
   * `await generateKeyPair('Ed25519')` from `@libp2p/crypto/keys`, kept across restarts so
   * clients can pin it. Default: an Ed25519 key generated on the first `start()` and kept
   * for the gateway's lifetime.
   */
  privateKey?: PrivateKey | undefined
  /** libp2p protocol id clients open their stream with. Default `'/rony/1.0.0'`. */
  protocol?: string | undefined
  /**
   * Largest inbound message (one length-prefixed frame), in bytes. A frame announcing more
   * is refused before its body is buffered: the stream gets an `E01 ENVELOPE` error
   * envelope and is closed (`MESSAGE_TOO_BIG`).
   * Default `DEFAULT_LIMITS.maxEnvelopeBytes` (1 MiB).
   */
  maxMessageSize?: number | undefined
  /**
   * Open QUIC connections (peers) beyond which new ones are refused; also libp2p's
   * connection-manager limit. Default `10_000` connections.
   */
  maxConnections?: number | undefined
  /**
   * Rony streams one QUIC connection may have open at once; each is one `GatewayConn`.
   * More are reset by libp2p. Default `16` streams.
   */
  maxStreams?: number | undefined
  /**
   * New QUIC connections one host may open per second before libp2p refuses more.
   * Default `100` per second (libp2p's own default, 5, is meant for peer-to-peer meshes).
   */
  inboundConnectionThreshold?: number | undefined
  /** Handshakes in progress at once; more are refused. Default `64` connections. */
  maxIncomingPendingConnections?: number | undefined
  /**
   * Milliseconds without an inbound message after which a stream is closed (code
   * `NORMAL`, reason `'idle timeout'`). `0` disables it. Dead peers are detected sooner by
   * QUIC's own keepalive (see `transport`). Default `120_000` ms.
   */
  idleTimeout?: number | undefined
  /**
   * Outbound bytes queued on one stream above which `send` returns `false` and the gateway
   * stops dispatching that stream's requests until the queue drains to this level.
   * Default `1_048_576` bytes (1 MiB).
   */
  highWaterMark?: number | undefined
  /**
   * Outbound bytes queued on one stream above which it is closed (`SLOW_CONSUMER`,
   * `'slow consumer'`). Must be at least `highWaterMark`. Default `8_388_608` bytes (8 MiB).
   */
  maxBufferedBytes?: number | undefined
  /**
   * Milliseconds a stream may take to flush its queue and see the peer end its side after
   * `close()`, before it is reset. Default `5_000` ms.
   */
  closeTimeout?: number | undefined
  /**
   * Milliseconds `stop()` gives open streams to close (`GOING_AWAY`) before resetting the
   * rest. Default `2_000` ms.
   */
  stopTimeout?: number | undefined
  /**
   * Milliseconds `stop()` waits for the libp2p node (its QUIC endpoint) to shut down before
   * it gives up on it and resolves anyway, so a stalled peer cannot hang `stop()`. The
   * node's connections are aborted first. Default `2_000` ms.
   */
  nodeStopTimeout?: number | undefined
  /**
   * Options of `@chainsafe/libp2p-quic` (`handshakeTimeout`, `maxIdleTimeout`,
   * `keepAliveInterval`, flow-control windows…). Defaults: that package's defaults (5 s
   * handshake, 10 s idle, 5 s keepalive), with `maxConcurrentStreamLimit` set to
   * `maxStreams` + 1.
   */
  transport?: Partial<QuicOptions> | undefined
  /**
   * Logger, for example `components.logger.forComponent('rony:gateway-quic')`. Default: a
   * disabled logger (`enabled === false`) that formats nothing.
   */
  logger?: Logger | undefined
}

/** Every option, resolved. */
export interface ResolvedQuicOptions {
  readonly name: string
  readonly listen: readonly string[]
  readonly privateKey: PrivateKey | undefined
  readonly protocol: string
  readonly maxMessageSize: number
  readonly maxConnections: number
  readonly maxStreams: number
  readonly inboundConnectionThreshold: number
  readonly maxIncomingPendingConnections: number
  readonly idleTimeout: number
  readonly highWaterMark: number
  readonly maxBufferedBytes: number
  readonly closeTimeout: number
  readonly stopTimeout: number
  readonly nodeStopTimeout: number
  readonly transport: Partial<QuicOptions>
  readonly logger: Logger
}

/** The defaults of every numeric and string option, for documentation and tests. */
export const QUIC_GATEWAY_DEFAULTS = Object.freeze({
  name: 'quic',
  listen: Object.freeze(['/ip4/127.0.0.1/udp/0/quic-v1']),
  protocol: '/rony/1.0.0',
  maxMessageSize: DEFAULT_LIMITS.maxEnvelopeBytes,
  maxConnections: 10_000,
  maxStreams: 16,
  inboundConnectionThreshold: 100,
  maxIncomingPendingConnections: 64,
  idleTimeout: 120_000,
  highWaterMark: 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  closeTimeout: 5_000,
  stopTimeout: 2_000,
  nodeStopTimeout: 2_000,
})

/** Merges `init` over the defaults (without mutating it) and rejects nonsense early. */
export function resolveOptions(init: QuicGatewayInit): ResolvedQuicOptions {
  const d = QUIC_GATEWAY_DEFAULTS
  const name = init.name ?? d.name
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('name must be non-empty')
  const protocol = init.protocol ?? d.protocol
  if (typeof protocol !== 'string' || !protocol.startsWith('/')) {
    throw new TypeError(`protocol must start with '/', got ${String(protocol)}`)
  }
  const listen = [...(init.listen ?? d.listen)]
  if (listen.length === 0 || listen.some((a) => typeof a !== 'string' || !a.startsWith('/'))) {
    throw new TypeError('listen must be a non-empty list of multiaddrs')
  }
  const highWaterMark = integerOption('highWaterMark', init.highWaterMark ?? d.highWaterMark, 1)
  return {
    name,
    listen,
    privateKey: init.privateKey,
    protocol,
    // A varint prefix of up to 5 bytes carries at most 2^32 − 1 (FrameDecoder's bound).
    maxMessageSize: integerOption(
      'maxMessageSize',
      init.maxMessageSize ?? d.maxMessageSize,
      1,
      2 ** 32 - 1,
    ),
    maxConnections: integerOption('maxConnections', init.maxConnections ?? d.maxConnections, 1),
    maxStreams: integerOption('maxStreams', init.maxStreams ?? d.maxStreams, 1, 65_535),
    inboundConnectionThreshold: integerOption(
      'inboundConnectionThreshold',
      init.inboundConnectionThreshold ?? d.inboundConnectionThreshold,
      1,
    ),
    maxIncomingPendingConnections: integerOption(
      'maxIncomingPendingConnections',
      init.maxIncomingPendingConnections ?? d.maxIncomingPendingConnections,
      1,
    ),
    idleTimeout: integerOption('idleTimeout', init.idleTimeout ?? d.idleTimeout, 0),
    highWaterMark,
    maxBufferedBytes: integerOption(
      'maxBufferedBytes',
      init.maxBufferedBytes ?? d.maxBufferedBytes,
      highWaterMark,
    ),
    closeTimeout: integerOption('closeTimeout', init.closeTimeout ?? d.closeTimeout, 1),
    stopTimeout: integerOption('stopTimeout', init.stopTimeout ?? d.stopTimeout, 0),
    nodeStopTimeout: integerOption('nodeStopTimeout', init.nodeStopTimeout ?? d.nodeStopTimeout, 1),
    transport: { ...init.transport },
    logger: init.logger ?? disabledLogger,
  }
}
