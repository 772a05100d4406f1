import type { Edge } from '@rony/edge'
import { Greeter, hello } from './gen/greeter.js'

/** Serves Greeter on `edge`: greets with a template that SetGreeting replaces. */
export function serveGreeter(edge: Edge): void {
  let template = 'hello, %s'
  let count = 0
  edge.service(Greeter, {
    sayHello: (req) =>
      hello.HelloReply.create({ Text: template.replace('%s', req.Name), Count: ++count }),
    setGreeting: (req) => {
      template = req.Template
      return hello.HelloReply.create({ Text: template.replace('%s', '…'), Count: count })
    },
  })
}
