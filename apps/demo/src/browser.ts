/**
 * The playground page's script (bundled for the browser by the playground server): sends
 * an EchoRequest on load and on every submit, and logs each round trip.
 */
import { createClient } from '@rony/client'
import { RonyError } from '@rony/envelope'
import { demo } from './gen/echo.js'

const $ = (id: string): HTMLElement => document.getElementById(id)!
const client = createClient(
  `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc`,
)
client.on('open', () => {
  $('status').textContent = 'connected'
})
client.on('reconnecting', () => {
  $('status').textContent = 'reconnecting…'
})

function log(text: string, error = false): void {
  const line = document.createElement('div')
  line.textContent = text
  if (error) line.className = 'err'
  $('log').append(line)
}

async function echo(text: string): Promise<void> {
  const started = performance.now()
  try {
    const reply = await client.request(demo.EchoRequest.create({ Text: text }), demo.EchoResponse)
    const ms = (performance.now() - started).toFixed(1)
    log(`echo "${reply.Text}" from ${reply.ServerID} in ${ms} ms`)
  } catch (error) {
    log(error instanceof RonyError ? `error ${error.message}` : String(error), true)
  }
}

$('echo').addEventListener('submit', (event) => {
  event.preventDefault()
  void echo(($('text') as HTMLInputElement).value)
})
void echo('hello from the browser')
