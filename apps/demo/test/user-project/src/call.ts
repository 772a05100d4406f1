// `node src/call.ts <ws url> <name>`: one typed call from Node, printing the answer.
import { createClient, serviceClient } from '@rony/client'
import { Greeter } from './gen/greeter.js'

const [url = 'ws://127.0.0.1:8080/rpc', name = 'Node'] = process.argv.slice(2)
const client = createClient(url)
const greeter = serviceClient(Greeter, client)
const reply = await greeter.sayHello({ Name: name }, { timeout: 10_000 })
console.log(`${reply.Text} (#${reply.Count})`)
await client.close()
