/**
 * `pnpm demo --single`: starts the one-edge playground (one edge with an echo service behind the WebSocket,
 * HTTP and QUIC gateways, plus a web page), drives it with the Node client over each of
 * them, and keeps serving until Ctrl-C.
 */
import { createClient } from '@rony/client'
import { demo } from './gen/echo.js'
import { startPlayground } from './playground.ts'

const port = Number(process.env.PORT ?? 8080)
const playground = await startPlayground({ port }).catch((error: NodeJS.ErrnoException) => {
  if (error.code !== 'EADDRINUSE') throw error
  console.log(`port ${port} is busy: using a free one`)
  return startPlayground()
})
console.log(`Rony edge '${playground.edge.id}' serving`)
console.log(`  ws    ${playground.rpcUrl}`)
console.log(`  http  ${playground.httpUrl}`)
console.log(`  quic  ${playground.quicAddress}\n`)

for (const address of [playground.rpcUrl, playground.httpUrl, playground.quicAddress]) {
  const client = createClient(address)
  try {
    for (const text of ['hello', 'again']) {
      const started = performance.now()
      const reply = await client.request(demo.EchoRequest.create({ Text: text }), demo.EchoResponse)
      const ms = (performance.now() - started).toFixed(2)
      console.log(`  → EchoRequest "${text}"  ← "${reply.Text}" from ${reply.ServerID} (${ms} ms)`)
    }
  } finally {
    await client.close()
  }
}
console.log(`\nOr with curl:\n  curl ${playground.httpUrl}echo/hi`)
console.log(
  `  curl -H 'content-type: application/json' -d '{"requestId":"1","cmd":"EchoRequest","message":{"Text":"hi"}}' ${playground.httpUrl}`,
)

if (process.env.DEMO_EXIT) {
  await playground.close()
} else {
  console.log(`\nOpen ${playground.url} for the playground page. Ctrl-C stops.`)
  process.once('SIGINT', () => {
    console.log('\nstopping…')
    void playground.close().then(() => process.exit(0))
  })
}
