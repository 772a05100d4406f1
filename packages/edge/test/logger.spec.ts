import { inspect } from 'node:util'
import { constructorOf, encodeEnvelope, RonyError } from '@rony/envelope'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { consoleLogger, silentLogger } from '../src/index.js'
import { debugMatcher } from '../src/logger.js'
import {
  EchoRequest,
  EchoResponse,
  errorOf,
  request,
  startedEdge,
  stopEdges,
  Unregistered,
} from './helpers.js'

afterEach(async () => {
  vi.restoreAllMocks()
  await stopEdges()
})

/** A consoleLogger that collects its lines. */
function collecting(debug = ''): { lines: string[]; logger: ReturnType<typeof consoleLogger> } {
  const lines: string[] = []
  return { lines, logger: consoleLogger({ debug, write: (line) => lines.push(line) }) }
}

/** An argument that counts how often it is turned into text. */
function countingArgument(): { formatted: number } {
  const counter = {
    formatted: 0,
    [inspect.custom]: () => {
      counter.formatted++
      return 'ARG'
    },
    toString: () => {
      counter.formatted++
      return 'ARG'
    },
  }
  return counter
}

describe('consoleLogger', () => {
  it('prints errors by default and debug output only for the namespaces DEBUG names', () => {
    const { lines, logger } = collecting()
    const log = logger.forComponent('rony:edge:n1')
    expect([log.enabled, log.error.enabled, log.trace.enabled]).toEqual([false, true, false])
    log('not printed %s', 'x')
    log.trace('not printed')
    log.error('failed: %O', new Error('boom'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z rony:edge:n1:error failed: Error: boom\n/)
    expect(lines[0]).toContain('logger.spec.ts') // the stack
  })

  it('formats nothing for a channel that does not print', () => {
    const { lines, logger } = collecting()
    const log = logger.forComponent('rony:edge:n1')
    const argument = countingArgument()
    log('debug %s %O', argument, argument)
    log.trace('trace %s', argument)
    expect(argument.formatted).toBe(0)
    log.error('error %O', argument)
    expect(argument.formatted).toBe(1)
    expect(lines).toHaveLength(1)
  })

  it('DEBUG=rony:edge enables the edge namespaces under it; rony:* everything; -pattern excludes', () => {
    const edge = debugMatcher('rony:edge')
    expect(['rony:edge', 'rony:edge:n1', 'rony:edge:n1:trace'].map(edge)).toEqual([
      true,
      true,
      true,
    ])
    expect(['rony:edgeware', 'rony:gateway-ws', 'other:edge'].map(edge)).toEqual([
      false,
      false,
      false,
    ])
    const all = debugMatcher('rony:*, -*:trace')
    expect(['rony:raft:n1', 'rony:edge:n1', 'rony:edge:n1:trace'].map(all)).toEqual([
      true,
      true,
      false,
    ])
    expect(debugMatcher('')('rony:edge')).toBe(false)
  })

  it('reads DEBUG from the environment when no pattern is given', () => {
    vi.stubEnv('DEBUG', 'rony:edge')
    try {
      const lines: string[] = []
      const log = consoleLogger({ write: (line) => lines.push(line) }).forComponent('rony:edge:n1')
      expect(log.enabled).toBe(true)
      log('started on %s', 'memory://memory')
      expect(lines[0]).toMatch(/ rony:edge:n1 started on memory:\/\/memory\n$/)
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('a sink that throws drops the line instead of throwing', () => {
    const log = consoleLogger({
      write: () => {
        throw new Error('disk full')
      },
    }).forComponent('rony:edge:n1')
    expect(() => log.error('x')).not.toThrow()
  })
})

describe('the edge’s default logger', () => {
  it('prints a handler’s failure to stderr, naming the message type, without any logger option', async () => {
    const written: string[] = []
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
    const { peer } = await startedEdge({ logger: undefined as never }, (edge) => {
      edge.handle(EchoRequest, () => {
        throw new Error('database is down')
      })
    })
    peer.send(request(EchoRequest, { text: '' }, 1n))
    expect(errorOf(await peer.next())).toMatchObject({ code: 'E00', items: 'SERVER' })
    vi.restoreAllMocks()
    const line = written.find((text) => text.includes('rony:edge:n1:error'))
    expect(line).toBeDefined()
    expect(line).toContain('handler for EchoRequest (634453994073422796) failed')
    expect(line).toContain('database is down')
  })

  it('prints nothing with logger: silentLogger', async () => {
    const written: string[] = []
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    })
    const { peer } = await startedEdge({ logger: silentLogger }, (edge) => {
      edge.handle(EchoRequest, () => {
        throw new Error('database is down')
      })
    })
    peer.send(request(EchoRequest, { text: '' }, 1n))
    await peer.next()
    vi.restoreAllMocks()
    expect(written.filter((text) => text.includes('rony:edge'))).toEqual([])
  })

  it('a thrown RonyError is the handler’s answer, not a failure: nothing is printed', async () => {
    const { lines, logger } = collecting()
    const { peer } = await startedEdge({ logger }, (edge) => {
      edge.handle(EchoRequest, () => {
        throw new RonyError('E07', 'USER', 'not yours')
      })
    })
    peer.send(request(EchoRequest, { text: '' }, 1n))
    expect(errorOf(await peer.next())).toMatchObject({ code: 'E07' })
    expect(lines).toEqual([])
  })
})

describe('error texts name the message type', () => {
  it('no handler for a type the registry knows: E01/HANDLER names it, with its id', async () => {
    const { edge, peer } = await startedEdge()
    edge.registry.register(Unregistered)
    peer.send(request(Unregistered, { note: '' }, 1n))
    expect(errorOf(await peer.next())).toEqual({
      code: 'E01',
      items: 'HANDLER',
      description: `no handler for Unregistered (${constructorOf('Unregistered')})`,
    })
  })

  it('a raw { ctor, decode } handler is reported by its name, or by its id when it has none', async () => {
    const { lines, logger } = collecting()
    const { peer } = await startedEdge({ logger }, (edge) => {
      const fail = (): never => {
        throw new Error('raw failure')
      }
      edge.handle({ ctor: 77n, decode: () => ({}), name: 'RawThing' }, fail)
      edge.handle({ ctor: 78n, decode: () => ({}) }, fail)
    })
    peer.send(encodeEnvelope({ ctor: 77n, requestId: 1n }))
    peer.send(encodeEnvelope({ ctor: 78n, requestId: 2n }))
    await peer.next()
    await peer.next()
    const text = lines.join('')
    expect(text).toContain('handler for RawThing (77) failed')
    expect(text).toContain('handler for constructor 78 failed')
  })

  it('a handler that answers nothing is reported by its type', async () => {
    const { lines, logger } = collecting()
    const { peer } = await startedEdge({ logger }, (edge) => {
      edge.handle(EchoRequest, () => undefined)
      edge.handle(EchoResponse, () => undefined)
    })
    peer.send(request(EchoRequest, { text: '' }, 1n))
    expect(errorOf(await peer.next())).toMatchObject({ code: 'E00', items: 'HANDLER' })
    expect(lines.join('')).toContain(
      'the handler for EchoRequest (634453994073422796) returned no reply and sent none',
    )
  })
})
