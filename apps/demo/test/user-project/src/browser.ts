// The page's script: one typed call over WebSocket to the server that served the page.
import { createClient, serviceClient } from '@rony/client'
import { Greeter } from './gen/greeter.js'

const answer = document.getElementById('answer')!
const client = createClient(`ws://${location.host}/rpc`)
const greeter = serviceClient(Greeter, client)
greeter.sayHello({ Name: 'browser' }).then(
  (reply) => {
    answer.textContent = reply.Text
  },
  (error: unknown) => {
    answer.textContent = `failed: ${String(error)}`
  },
)
