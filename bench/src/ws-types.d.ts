/**
 * The part of the `ws` package's API the benchmarks use. `@types/ws` is not a dependency
 * of the bench package (the lockfile is left as it is); this covers what src/ calls.
 */
declare module 'ws' {
  import { EventEmitter } from 'node:events'
  import type { AddressInfo } from 'node:net'

  interface ClientOptions {
    perMessageDeflate?: boolean
    handshakeTimeout?: number
  }

  class WebSocket extends EventEmitter {
    constructor(url: string, options?: ClientOptions)
    readonly readyState: number
    send(data: Uint8Array, options?: { binary?: boolean }): void
    close(code?: number, reason?: string): void
    terminate(): void
  }

  interface ServerOptions {
    host?: string
    port?: number
    perMessageDeflate?: boolean
    maxPayload?: number
  }

  class WebSocketServer extends EventEmitter {
    constructor(options: ServerOptions)
    readonly clients: Set<WebSocket>
    address(): AddressInfo | string | null
    close(callback?: (error?: Error) => void): void
  }

  export { WebSocket, WebSocketServer }
  export default WebSocket
}
