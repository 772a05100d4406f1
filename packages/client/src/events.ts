import type { Envelope, MessageType, RonyError } from '@rony/envelope'

/** A message the server pushed on its own (request id 0). */
export interface Update {
  /** The payload's constructor id. */
  readonly ctor: bigint
  /** The registered name of `ctor` (`EchoResponse`), or `undefined` if it is not registered. */
  readonly name: string | undefined
  /**
   * The payload decoded through the client's registry (an instance of the registered
   * type), or `undefined` if `ctor` is not registered: read `envelope.message` then.
   */
  readonly message: unknown
  /** The raw envelope, headers included. */
  readonly envelope: Envelope
  /** The registered type, if any: branch on it with `update.type === Notice`. */
  readonly type: MessageType | undefined
}

/** Why a connection closed. */
export interface CloseInfo {
  /** The WebSocket close code (1006: dropped without a close frame). */
  readonly code: number
  readonly reason: string
  /** The client will try to connect again (reconnect is on and `close()` was not called). */
  readonly reconnecting: boolean
}

/** A reconnect attempt being scheduled. */
export interface ReconnectInfo {
  /** 1 for the first attempt after a drop or failure, then 2, 3, … until one succeeds. */
  readonly attempt: number
  /** Wait before this attempt, in milliseconds. */
  readonly delay: number
  /** What ended the previous connection or attempt. */
  readonly error: RonyError
}

/** The client's events and their listeners' signatures. */
export interface ClientEvents {
  /** A server push (request id 0). Also available as `client.updates()`. */
  update: (update: Update) => void
  /** A connection opened (the first one and every reconnect). */
  open: () => void
  /** An open connection closed. */
  close: (info: CloseInfo) => void
  /** A reconnect attempt was scheduled. */
  reconnecting: (info: ReconnectInfo) => void
  /**
   * Something the server sent could not be used: bytes that do not decode (E01/ENVELOPE),
   * or a `rony.Error` with request id 0. The connection stays up. Without an `'error'`
   * listener these are dropped silently.
   */
  error: (error: RonyError) => void
}

export type EventName = keyof ClientEvents

type AnyListener = (...args: never[]) => void

/**
 * A minimal typed event emitter without Node built-ins. Listener arrays are copied on
 * change, so `emit` iterates a stable snapshot even when a listener removes itself.
 */
export class Emitter<E extends { [K in keyof E]: AnyListener }> {
  private readonly listeners = new Map<keyof E, readonly AnyListener[]>()

  on<K extends keyof E>(event: K, listener: E[K]): void {
    const current = this.listeners.get(event) ?? []
    this.listeners.set(event, [...current, listener])
  }

  off<K extends keyof E>(event: K, listener: E[K]): void {
    const current = this.listeners.get(event)
    if (!current) return
    const index = current.indexOf(listener)
    if (index < 0) return
    const next = current.filter((_, i) => i !== index)
    if (next.length === 0) this.listeners.delete(event)
    else this.listeners.set(event, next)
  }

  has(event: keyof E): boolean {
    return this.listeners.has(event)
  }

  /**
   * Calls every listener of `event`. A listener that throws does not stop the others or
   * the client: the exception is rethrown from a microtask, where the host reports it as
   * uncaught (as `EventTarget` does).
   */
  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const current = this.listeners.get(event)
    if (!current) return
    for (const listener of current) {
      try {
        ;(listener as (...a: Parameters<E[K]>) => void)(...args)
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  clear(): void {
    this.listeners.clear()
  }
}
