import { createServer, type Server } from 'node:net'
import { CodedError, Lifecycle, type Startable } from '@rony/interface'
import { freePort, portInUse, startableSuite } from '../src/startable/index.js'

/**
 * The reference component: a TCP listener on `Lifecycle`, with a call that waits until the
 * component stops. The suite runs it restartable and not.
 */
class Listener implements Startable {
  #server: Server | undefined
  #waiters: Array<(err: Error) => void> = []
  readonly #lifecycle: Lifecycle

  constructor(
    readonly port: number,
    restartable: boolean,
  ) {
    this.#lifecycle = new Lifecycle(
      { start: () => this.#listen(), stop: () => this.#close() },
      { restartable },
    )
  }

  start = (): Promise<void> => this.#lifecycle.start()
  stop = (): Promise<void> => this.#lifecycle.stop()

  /** Resolves never; rejects with RONY_ERR_STOPPED when the listener stops. */
  wait(): Promise<never> {
    return new Promise((_, reject) => this.#waiters.push(reject))
  }

  #listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer()
      server.once('error', reject)
      server.listen({ port: this.port, host: '127.0.0.1' }, () => {
        this.#server = server
        resolve()
      })
    })
  }

  #close(): Promise<void> {
    for (const reject of this.#waiters.splice(0)) {
      reject(new CodedError('listener stopped', 'RONY_ERR_STOPPED'))
    }
    const server = this.#server
    this.#server = undefined
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()))
  }
}

for (const restartable of [true, false]) {
  startableSuite(`Lifecycle({ restartable: ${restartable} }) around a TCP listener`, {
    restart: restartable ? 'restarts' : 'rejects',
    async create() {
      const port = await freePort()
      const listener = new Listener(port, restartable)
      return {
        component: listener,
        isRunning: () => portInUse(port),
        pendingCall: async () => ({ call: listener.wait() }),
      }
    },
  })
}
