// @rony/client with no generated code of the app's: a Ping through the built-in messages (see measure.ts).
import { createClient } from '@rony/client'
import { rony } from '@rony/envelope'

const client = createClient('ws://127.0.0.1:8080')
client.request(rony.Ping.create({ ID: 1 }), rony.Pong).then((pong) => console.log(pong.ID))
