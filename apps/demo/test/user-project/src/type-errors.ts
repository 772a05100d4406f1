// Never run: each line below must fail to compile, or `tsc` reports the unused directive.
import { createClient, serviceClient } from '@rony/client'
import type { Edge } from '@rony/edge'
import { Greeter, hello } from './gen/greeter.js'

export async function wrongUses(edge: Edge): Promise<void> {
  const greeter = serviceClient(Greeter, createClient('ws://127.0.0.1:8080/rpc'))
  // @ts-expect-error a field HelloRequest does not have
  await greeter.sayHello({ Nmae: 'typo' })
  // @ts-expect-error a field of the wrong type
  await greeter.sayHello({ Name: 42 })
  const reply = await greeter.sayHello({ Name: 'Ada' })
  // @ts-expect-error HelloReply has no Template
  console.log(reply.Template)
  // @ts-expect-error Text is a string
  const count: number = reply.Text
  console.log(count)
  edge.service(Greeter, {
    // @ts-expect-error a handler must return a HelloReply
    sayHello: () => 42,
    setGreeting: () => hello.HelloReply.create({ Text: 'set' }),
  })
  // @ts-expect-error setGreeting has no handler
  edge.service(Greeter, { sayHello: () => hello.HelloReply.create({ Text: 'hi' }) })
}
