/**
 * @packageDocumentation
 *
 * `@rony/gateway-http`: the HTTP gateway of the Rony edge, on Fastify. Each request is one
 * non-persistent connection for the edge: its body goes to the edge as one message and the
 * edge's reply is the response. Three ways to call it:
 *
 * - `POST {prefix}` with `Content-Type: application/x-protobuf`: the body is one binary
 *   envelope (or a container); the response (200) is the reply envelope (a container for a
 *   container), in the same content type.
 * - `POST {prefix}` with `Content-Type: application/json`: the Go framework's JSON envelope
 *   `{"requestId","header","cmd","message"}` with `message` in protobuf's JSON mapping; the
 *   response (200) is the JSON reply envelope. Errors are envelopes with `cmd: "Error"`.
 * - REST routes the edge's handlers declare (`edge.handle(T, fn, { rest: { method, path } })`):
 *   path parameters, query and JSON body become the request message; the reply's message is
 *   the JSON body (200), an error maps to its HTTP status (E01→400, E07→403, E02→503, …)
 *   with `{"code","items","description"}`.
 *
 * Errors of the gateway itself are JSON `{"code","items","description"}` with a status:
 * 404 unknown route, 405 wrong method on `{prefix}`, 413 body over `bodyLimit`, 415
 * unsupported content type, 503 stopping or overloaded, 504 request timeout. Server push
 * (`ctx.push`) does not exist over HTTP (`features.serverPush === false`).
 *
 * @example
 * ```ts
 * import { createEdge } from '@rony/edge'
 * import { rony } from '@rony/envelope'
 * import { httpGateway } from '@rony/gateway-http'
 *
 * const edge = createEdge({ id: 'n1', gateways: [httpGateway({ port: 8081, prefix: '/rpc' })] })
 * edge.handle(rony.KeyValue, async (req) => rony.KeyValue.create({ Key: req.Key, Value: 'ok' }), {
 *   rest: { method: 'GET', path: '/kv/:Key' },
 * })
 * await edge.start()
 * // curl http://127.0.0.1:8081/rpc/kv/hello
 * // curl -H 'content-type: application/json' -d '{"requestId":"1","cmd":"KeyValue","message":{"Key":"a"}}' http://127.0.0.1:8081/rpc
 * ```
 */

export { httpGateway } from './gateway.js'
export { HTTP_GATEWAY_DEFAULTS, type HttpGatewayInit } from './options.js'
