/**
 * What `#quic-dialer` resolves to in browser bundles: QUIC needs UDP sockets, which
 * browsers do not give to scripts, so every dial fails with a `TypeError` and no libp2p
 * code is bundled.
 *
 * @module
 */

import type { QuicDialOptions, QuicStreamEvents, QuicStreamHandle } from './quic.js'

export function dialQuic(
  address: string,
  _events: QuicStreamEvents,
  _options: QuicDialOptions,
): Promise<QuicStreamHandle> {
  return Promise.reject(
    new TypeError(
      `createClient: QUIC ('${address}') is only available in Node; use ws:// or http:// in browsers`,
    ),
  )
}
