/**
 * `pnpm demo`: starts the playground (an edge with the WebSocket gateway and an echo
 * service, plus a web page), drives it with the Node client, and keeps serving the page
 * until Ctrl-C.
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
console.log(`Rony edge '${playground.edge.id}' serving ${playground.rpcUrl}\n`)

const client = createClient(playground.rpcUrl)
for (const text of ['hello', 'from', 'the Node client']) {
  const started = performance.now()
  const reply = await client.request(demo.EchoRequest.create({ Text: text }), demo.EchoResponse)
  const ms = (performance.now() - started).toFixed(2)
  console.log(
    `  → EchoRequest "${text}"  ← EchoResponse "${reply.Text}" from ${reply.ServerID} (${ms} ms)`,
  )
}
await client.close()

if (process.env.DEMO_EXIT) {
  await playground.close()
} else {
  console.log(`\nOpen ${playground.url} for the playground page. Ctrl-C stops.`)
  process.once('SIGINT', () => {
    console.log('\nstopping…')
    void playground.close().then(() => process.exit(0))
  })
}
