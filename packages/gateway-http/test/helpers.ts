import * as http from 'node:http'
import type {
  CloseReason,
  GatewayConn,
  GatewayHandlers,
  RequestMeta,
  RestRoute,
} from '@rony/interface'
import type { RawConnection } from '@rony/testing'

export interface HttpResult {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  reusedSocket: boolean
}

export interface RequestInit {
  method?: string
  contentType?: string
  headers?: Record<string, string>
  body?: Uint8Array | string
  agent?: http.Agent
}

/** One raw HTTP request with node:http: exact bytes in, status, headers and body out. */
export function request(url: string, init: RequestInit = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...init.headers }
    if (init.contentType !== undefined) headers['content-type'] = init.contentType
    const req = http.request(url, {
      method: init.method ?? 'POST',
      headers,
      agent: init.agent ?? false,
    })
    req.setTimeout(10_000, () => req.destroy(new Error('test request timed out')))
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          reusedSocket: req.reusedSocket,
        }),
      )
    })
    req.end(init.body === undefined ? undefined : init.body)
  })
}

/** `request` with a JSON body, parsing a JSON answer. */
export async function requestJson(
  url: string,
  init: Omit<RequestInit, 'body'> & { body?: unknown } = {},
): Promise<{ status: number; json: unknown; headers: http.IncomingHttpHeaders }> {
  const { body, ...rest } = init
  const result = await request(url, {
    ...rest,
    ...(body === undefined ? {} : { body: JSON.stringify(body), contentType: 'application/json' }),
  })
  const text = result.body.toString('utf8')
  return {
    status: result.status,
    headers: result.headers,
    json: text ? JSON.parse(text) : undefined,
  }
}

/**
 * The compliance suite's raw connection over HTTP: `send` POSTs one body
 * (`application/x-protobuf`), `next` yields the 200 response body (other statuses reject),
 * `abort` destroys the request mid-flight.
 */
export function rawHttpConnect(address: string): Promise<RawConnection> {
  let req: http.ClientRequest | undefined
  let settle!: (value: { code?: number | undefined }) => void
  const closed = new Promise<{ code?: number | undefined }>((resolve) => {
    settle = resolve
  })
  const bodies: Array<Promise<Uint8Array>> = []
  const connection: RawConnection = {
    send(bytes) {
      if (req !== undefined) throw new Error('an HTTP raw connection carries one request')
      const current = http.request(address, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/x-protobuf' },
      })
      req = current
      const body = new Promise<Uint8Array>((resolve, reject) => {
        current.on('error', (error) => {
          settle({})
          reject(error)
        })
        current.on('response', (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('error', reject)
          res.on('end', () => {
            settle({ code: res.statusCode })
            if (res.statusCode === 200) resolve(Buffer.concat(chunks))
            else reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`))
          })
        })
      })
      body.catch(() => {}) // read through next(), or dropped with an aborted request
      bodies.push(body)
      current.end(bytes)
    },
    async next(timeout = 5_000) {
      const body = bodies.shift()
      if (body === undefined) throw new Error('no request sent, or its response was read')
      let timer: NodeJS.Timeout | undefined
      try {
        return await Promise.race([
          body,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('no response in time')), timeout)
          }),
        ])
      } finally {
        clearTimeout(timer)
      }
    },
    closed,
    async close() {
      await closed
    },
    abort() {
      req?.destroy()
      settle({})
    },
  }
  return Promise.resolve(connection)
}

export type HandlerEvent =
  | { readonly type: 'connect'; readonly conn: GatewayConn }
  | {
      readonly type: 'message'
      readonly conn: GatewayConn
      readonly data: Uint8Array
      readonly meta: RequestMeta
    }
  | { readonly type: 'close'; readonly conn: GatewayConn; readonly reason: CloseReason }

/**
 * GatewayHandlers without an edge: records every call and answers with `respond` (by
 * default echoes the bytes in the request's format; `undefined` leaves it unanswered).
 */
export class FakeEdge implements GatewayHandlers {
  readonly events: HandlerEvent[] = []
  respond: (data: Uint8Array, meta: RequestMeta, conn: GatewayConn) => void = (
    data,
    meta,
    conn,
  ) => {
    conn.send(data, meta.format)
  }
  private waiters: Array<() => void> = []

  constructor(readonly restRoutes: readonly RestRoute[] = []) {}

  onConnect(conn: GatewayConn): void {
    this.record({ type: 'connect', conn })
  }

  onMessage(conn: GatewayConn, data: Uint8Array, meta: RequestMeta): void {
    this.record({ type: 'message', conn, data, meta })
    this.respond(data, meta, conn)
  }

  onClose(conn: GatewayConn, reason: CloseReason): void {
    this.record({ type: 'close', conn, reason })
  }

  of<T extends HandlerEvent['type']>(type: T): Array<Extract<HandlerEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<HandlerEvent, { type: T }> => e.type === type)
  }

  /** Resolves once `count` events of `type` were recorded. */
  async waitFor(type: HandlerEvent['type'], count = 1): Promise<void> {
    while (this.of(type).length < count) {
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  private record(event: HandlerEvent): void {
    this.events.push(event)
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}

/** A JSON reply envelope, as the edge sends it. */
export const jsonReply = (body: unknown): Uint8Array => Buffer.from(JSON.stringify(body), 'utf8')
