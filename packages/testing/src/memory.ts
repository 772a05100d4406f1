import type { MemoryGateway } from '@rony/edge'
import type { RawConnection } from './raw.js'

function withTimeout<T>(promise: Promise<T>, timeout: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no message within ${timeout} ms`)), timeout)
  })
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer))
}

/** A raw connection to a started `memoryGateway()`, for the gateway compliance suite. */
export function memoryConnect(gateway: MemoryGateway): RawConnection {
  const client = gateway.connect()
  return {
    send: (bytes) => client.send(bytes),
    next: (timeout = 5_000) => withTimeout(client.next(), timeout, 'memory connection'),
    closed: client.whenClosed.then((reason) => ({ code: reason.code })),
    close: async () => {
      client.close()
      await client.whenClosed
    },
    abort: () => client.close(),
  }
}
