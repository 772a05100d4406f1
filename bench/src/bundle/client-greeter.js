// A browser app with one generated service: what it imports and runs (see measure.ts).
import { createClient, serviceClient } from '@rony/client'
import { Greeter } from './gen/greeter.js'

const client = createClient('ws://127.0.0.1:8080')
const greeter = serviceClient(Greeter, client)
greeter.sayHello({ name: 'web' }).then((reply) => console.log(reply.message))
