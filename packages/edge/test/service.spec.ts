/**
 * `edge.service`: a service descriptor (as `rony gen` emits) served by an implementation
 * typed per method, routed by `C_<Service><Method>` and by the request type.
 */
import {
  C_Error,
  constructorOf,
  decodeEnvelope,
  type MethodDescriptor,
  RonyError,
  rony,
  type ServiceDescriptor,
} from '@rony/envelope'
import { describe, expect, it } from 'vitest'
import { createEdge, memoryGateway, silentLogger } from '../src/index.js'
import { type Echo, EchoRequest, EchoResponse, request } from './helpers.js'

const C_EchoerEcho = constructorOf('EchoerEcho')

/** What `rony gen` emits for `service Echoer { rpc Echo (EchoRequest) returns (EchoResponse); }`. */
function echoer(
  mode: 'local' | 'replicated' = 'local',
): ServiceDescriptor<{ readonly echo: MethodDescriptor<Echo, Echo> }> {
  return {
    name: 'Echoer',
    fullName: 'demo.Echoer',
    noClient: false,
    methods: {
      echo: {
        name: 'Echo',
        ctor: C_EchoerEcho,
        input: EchoRequest,
        output: EchoResponse,
        options: { mode, consistency: 'linearizable', internal: false },
      },
    },
  }
}

async function served(byRequestType?: boolean) {
  const gateway = memoryGateway()
  const edge = createEdge({ id: 'n1', gateways: [gateway], logger: silentLogger })
  edge.service(
    echoer(),
    // Plain objects: the method's output type encodes them.
    { echo: (req) => ({ text: `echo ${req.text}` }) },
    byRequestType === undefined ? {} : { byRequestType },
  )
  await edge.start()
  const client = gateway.connect()
  const call = async (ctor: bigint) => {
    client.send(request(EchoRequest, { text: 'hi' }, 7n, { ctor }))
    return decodeEnvelope(await client.next())
  }
  return { edge, call, close: () => edge.stop() }
}

describe('edge.service', () => {
  it('answers a method by C_<Service><Method>, as a Go-generated client sends it, and by its request type', async () => {
    const { call, close } = await served()
    try {
      for (const ctor of [C_EchoerEcho, constructorOf('EchoRequest')]) {
        const reply = await call(ctor)
        expect([reply.requestId, reply.ctor]).toEqual([7n, constructorOf('EchoResponse')])
        expect(EchoResponse.decode(reply.message).text).toBe('echo hi')
      }
    } finally {
      await close()
    }
  })

  it('byRequestType: false routes by the method id only', async () => {
    const { call, close } = await served(false)
    try {
      expect((await call(C_EchoerEcho)).ctor).toBe(constructorOf('EchoResponse'))
      const refused = await call(constructorOf('EchoRequest'))
      expect(refused.ctor).toBe(C_Error)
      expect(RonyError.fromWire(rony.Error.decode(refused.message)).items).toBe('HANDLER')
    } finally {
      await close()
    }
  })

  it('refuses an implementation without a method, and a mode the edge cannot run', () => {
    const edge = createEdge({ id: 'n1', gateways: [memoryGateway()], logger: silentLogger })
    // @ts-expect-error: echo is missing
    expect(() => edge.service(echoer(), {})).toThrow(
      'service Echoer: the implementation has no echo()',
    )
    const echo = (req: Echo): Echo => ({ text: req.text })
    expect(() => edge.service(echoer('replicated'), { echo })).toThrow(
      /mode 'replicated' needs a replica set/,
    )
  })

  it('types the implementation by the descriptor', () => {
    const edge = createEdge({ id: 'n1', gateways: [memoryGateway()], logger: silentLogger })
    const typed = () => {
      edge.service(echoer(), {
        // @ts-expect-error: a number is not an EchoResponse
        echo: () => 42,
      })
      edge.service(echoer(), {
        // @ts-expect-error: EchoRequest has no field `name`
        echo: (req) => ({ text: req.name }),
      })
    }
    expect(typed).toBeTypeOf('function') // compile-time checks only; never called
  })
})
