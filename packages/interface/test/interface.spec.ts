import { EventEmitter } from 'node:events'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  type AbortOptions,
  type Clock,
  CodedError,
  type ComponentLogger,
  type Consensus,
  type ConsensusEvents,
  type EventMap,
  type Gateway,
  type GatewayConn,
  type GatewayHandlers,
  isCodedError,
  isStartable,
  type LogFunction,
  type Logger,
  type Member,
  type Membership,
  type MembershipComponents,
  type MembershipEvents,
  type MembershipFactory,
  type MessageStream,
  type PacketTransport,
  type ProposeResult,
  type Random,
  type RequestMeta,
  type Startable,
  type StateMachine,
  type StreamTransport,
  type TimerHandle,
  type TypedEmitter,
} from '../src/index.js'

describe('CodedError', () => {
  it('carries message, code, cause and its constructor name', () => {
    const cause = new Error('socket reset')
    const err = new CodedError('peer unreachable', 'RONY_ERR_DIAL_FAILED', { cause })
    expect(err.message).toBe('peer unreachable')
    expect(err.code).toBe('RONY_ERR_DIAL_FAILED')
    expect(err.cause).toBe(cause)
    expect(err.name).toBe('CodedError')
    expect(err).toBeInstanceOf(CodedError)
    expect(err).toBeInstanceOf(Error)
    expect(err.stack).toContain('peer unreachable')
    expect(String(err)).toBe('CodedError: peer unreachable')
  })

  it('has no cause when none is given', () => {
    const err = new CodedError('x', 'RONY_ERR_TIMEOUT')
    expect('cause' in err).toBe(false)
  })

  it('names subclasses after themselves (new.target.name)', () => {
    class NotLeaderError extends CodedError<'RONY_ERR_NOT_LEADER'> {
      constructor(readonly leaderId: string | undefined) {
        super(`not the leader (leader: ${leaderId ?? 'unknown'})`, 'RONY_ERR_NOT_LEADER')
      }
    }
    const err = new NotLeaderError('n2')
    expect(err.name).toBe('NotLeaderError')
    expect(err.code).toBe('RONY_ERR_NOT_LEADER')
    expect(err.leaderId).toBe('n2')
    expect(err).toBeInstanceOf(NotLeaderError)
    expect(err).toBeInstanceOf(CodedError)
    expect(String(err)).toBe('NotLeaderError: not the leader (leader: n2)')
    expectTypeOf(err.code).toEqualTypeOf<'RONY_ERR_NOT_LEADER'>()
  })

  it('infers the literal code type and defaults to string', () => {
    expectTypeOf(new CodedError('m', 'RONY_ERR_STOPPED').code).toEqualTypeOf<'RONY_ERR_STOPPED'>()
    expectTypeOf<CodedError['code']>().toEqualTypeOf<string>()
  })
})

describe('isCodedError', () => {
  it('accepts CodedError instances, with or without a matching code', () => {
    const err = new CodedError('no leader', 'RONY_ERR_NOT_LEADER')
    expect(isCodedError(err)).toBe(true)
    expect(isCodedError(err, 'RONY_ERR_NOT_LEADER')).toBe(true)
    expect(isCodedError(err, 'RONY_ERR_TIMEOUT')).toBe(false)
  })

  it('accepts an error from another copy of the package (same shape, other class)', () => {
    // What another copy's CodedError instance looks like: not `instanceof` ours.
    class OtherCopyCodedError extends Error {
      readonly code: string
      constructor(message: string, code: string) {
        super(message)
        this.name = new.target.name
        this.code = code
      }
    }
    const foreign = new OtherCopyCodedError('no leader', 'RONY_ERR_NOT_LEADER')
    expect(foreign).not.toBeInstanceOf(CodedError)
    expect(isCodedError(foreign)).toBe(true)
    expect(isCodedError(foreign, 'RONY_ERR_NOT_LEADER')).toBe(true)
    expect(isCodedError(foreign, 'RONY_ERR_STOPPED')).toBe(false)
  })

  it('accepts a plain object with the right shape (another realm, structured clone)', () => {
    const plain: unknown = { name: 'CodedError', message: 'stopped', code: 'RONY_ERR_STOPPED' }
    expect(isCodedError(plain)).toBe(true)
    expect(isCodedError(plain, 'RONY_ERR_STOPPED')).toBe(true)
    expect(isCodedError(plain, 'RONY_ERR_NOT_LEADER')).toBe(false)
  })

  it('rejects values without the shape', () => {
    expect(isCodedError(new Error('plain'))).toBe(false)
    expect(isCodedError(new TypeError('plain'), 'RONY_ERR_TIMEOUT')).toBe(false)
    expect(isCodedError({ name: 'X', message: 'm', code: 42 })).toBe(false)
    expect(isCodedError({ name: 'X', message: 'm', code: '' })).toBe(false)
    expect(isCodedError({ message: 'm', code: 'RONY_ERR_TIMEOUT' })).toBe(false)
    expect(isCodedError({ name: 'X', code: 'RONY_ERR_TIMEOUT' })).toBe(false)
    expect(isCodedError('RONY_ERR_TIMEOUT')).toBe(false)
    expect(isCodedError(null)).toBe(false)
    expect(isCodedError(undefined)).toBe(false)
    expect(isCodedError(42)).toBe(false)
  })

  it('narrows the type, including the code', () => {
    const caught: unknown = new CodedError('t', 'RONY_ERR_TIMEOUT')
    if (isCodedError(caught, 'RONY_ERR_TIMEOUT')) {
      expectTypeOf(caught).toEqualTypeOf<CodedError<'RONY_ERR_TIMEOUT'>>()
      expectTypeOf(caught.code).toEqualTypeOf<'RONY_ERR_TIMEOUT'>()
    }
    if (isCodedError(caught)) expectTypeOf(caught.code).toEqualTypeOf<string>()
  })
})

describe('isStartable', () => {
  it('accepts objects and functions with start and stop methods', () => {
    expect(isStartable({ start() {}, stop() {} })).toBe(true)
    expect(isStartable({ start: async () => {}, stop: async () => {}, afterStart() {} })).toBe(true)
    class Component {
      start(): void {}
      stop(): void {}
    }
    expect(isStartable(new Component())).toBe(true)
    expect(isStartable(Object.assign(() => {}, { start() {}, stop() {} }))).toBe(true)
  })

  it('rejects anything else', () => {
    expect(isStartable({ start() {} })).toBe(false)
    expect(isStartable({ stop() {} })).toBe(false)
    expect(isStartable({ start: true, stop() {} })).toBe(false)
    expect(isStartable(null)).toBe(false)
    expect(isStartable(undefined)).toBe(false)
    expect(isStartable('start')).toBe(false)
    expect(isStartable(() => {})).toBe(false)
  })

  it('narrows to Startable', () => {
    const value: unknown = { start() {}, stop() {} }
    if (isStartable(value)) expectTypeOf(value).toEqualTypeOf<Startable>()
  })
})

describe('TypedEmitter', () => {
  it("is satisfied by Node's EventEmitter, typed or not", () => {
    expectTypeOf<EventEmitter>().toExtend<TypedEmitter<MembershipEvents>>()
    expectTypeOf<EventEmitter>().toExtend<TypedEmitter<ConsensusEvents>>()
    // Node's own generic form, EventEmitter<{ event: [args] }>, is a documented exception:
    // its conditional `emit` signature cannot be related to a mapped one (see events.ts).
    expectTypeOf<EventEmitter<{ 'member:join': [Member] }>>().not.toExtend<
      TypedEmitter<{ 'member:join': (m: Member) => void }>
    >()
  })

  it("is satisfied by typed-emitter's TypedEventEmitter shape", () => {
    // The interface of the `typed-emitter` package (v2), reproduced here so this package
    // needs no dependency on it.
    interface TypedEventEmitter<Events extends EventMap> {
      addListener<E extends keyof Events>(event: E, listener: Events[E]): this
      on<E extends keyof Events>(event: E, listener: Events[E]): this
      once<E extends keyof Events>(event: E, listener: Events[E]): this
      off<E extends keyof Events>(event: E, listener: Events[E]): this
      removeListener<E extends keyof Events>(event: E, listener: Events[E]): this
      emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean
      listenerCount<E extends keyof Events>(event: E): number
    }
    expectTypeOf<TypedEventEmitter<MembershipEvents>>().toExtend<TypedEmitter<MembershipEvents>>()
    expectTypeOf<TypedEventEmitter<ConsensusEvents>>().toExtend<TypedEmitter<ConsensusEvents>>()
  })

  it('types listeners and emit arguments from the event map', () => {
    const emitter = new EventEmitter() as unknown as TypedEmitter<MembershipEvents>
    const seen: string[] = []
    const onLeave = (m: Member, reason: 'left' | 'failed'): void => {
      seen.push(`${m.id}:${reason}`)
    }
    emitter.on('member:leave', onLeave)
    const member: Member = {
      id: 'n2',
      address: '127.0.0.1:7947',
      meta: {},
      state: 'dead',
      incarnation: 3,
    }
    expect(emitter.emit('member:leave', member, 'failed')).toBe(true)
    emitter.off('member:leave', onLeave)
    expect(emitter.emit('member:leave', member, 'failed')).toBe(false)
    expect(seen).toEqual(['n2:failed'])

    // @ts-expect-error: wrong argument type for the event
    emitter.emit('member:leave', member, 'crashed')
    // @ts-expect-error: unknown event
    emitter.on('member:gone', () => {})
  })
})

describe('contracts (compile-time)', () => {
  it('accepts an object literal implementing Gateway', async () => {
    let attached: GatewayHandlers | undefined
    const gateway = {
      name: 'memory',
      features: { serverPush: true, json: false, maxMessageSize: 1 << 20 },
      attach(handlers: GatewayHandlers) {
        attached = handlers
      },
      addresses: () => ['memory://edge-1'],
      async start() {
        if (!attached) throw new CodedError('attach first', 'RONY_ERR_NOT_ATTACHED')
      },
      async stop() {},
    } satisfies Gateway
    expectTypeOf(gateway).toExtend<Gateway>()
    expect(isStartable(gateway)).toBe(true)
    await expect(gateway.start()).rejects.toSatisfy((e) => isCodedError(e, 'RONY_ERR_NOT_ATTACHED'))

    const received: Uint8Array[] = []
    gateway.attach({
      onConnect() {},
      onMessage(conn: GatewayConn, data: Uint8Array, meta: RequestMeta) {
        expect(meta.headers.get('content-type')).toBe('application/x-protobuf')
        received.push(data)
        conn.send(data) // echo
      },
      onClose() {},
    })
    await gateway.start()
    const sent: Uint8Array[] = []
    const conn: GatewayConn = {
      id: 1,
      persistent: true,
      remoteAddress: 'memory:client',
      protocol: 'memory',
      closed: false,
      send: (bytes) => sent.push(bytes) > 0,
      close() {},
    }
    const headers = new Map([['content-type', 'application/x-protobuf']])
    attached?.onMessage(conn, Uint8Array.of(1, 2, 3), { headers, format: 'binary' })
    expect(received).toEqual([Uint8Array.of(1, 2, 3)])
    expect(sent).toEqual([Uint8Array.of(1, 2, 3)])
  })

  it('types the other contracts as documented', () => {
    expectTypeOf<Gateway>().toExtend<Startable>()
    expectTypeOf<Membership>().toExtend<Startable & TypedEmitter<MembershipEvents>>()
    expectTypeOf<MembershipFactory>().parameter(0).toEqualTypeOf<MembershipComponents>()
    expectTypeOf<MembershipFactory>().returns.toEqualTypeOf<Membership>()
    expectTypeOf<MembershipComponents>().toEqualTypeOf<{
      readonly id: string
      readonly logger: ComponentLogger
    }>()
    expectTypeOf<Consensus>().toExtend<Startable & TypedEmitter<ConsensusEvents>>()
    expectTypeOf<PacketTransport>().toExtend<Startable>()
    expectTypeOf<StreamTransport>().toExtend<Startable>()
    expectTypeOf<MessageStream>().toExtend<AsyncIterable<Uint8Array>>()
    expectTypeOf<Consensus['propose']>().returns.toEqualTypeOf<Promise<ProposeResult>>()
    expectTypeOf<Consensus['leaderId']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<Logger>().toExtend<LogFunction>()
    expectTypeOf<Logger['trace']>().toEqualTypeOf<LogFunction>()
    // AbortOptions accepts an explicit undefined under exactOptionalPropertyTypes.
    const forwarded: AbortOptions = { signal: undefined }
    expectTypeOf(forwarded).toExtend<AbortOptions>()
    // TimerHandle is opaque: numbers and Node timers need an explicit cast.
    expectTypeOf<number>().not.toExtend<TimerHandle>()
  })

  it('accepts simple implementations of StateMachine, Clock, Random and ComponentLogger', async () => {
    let state = 0
    const machine = {
      apply(command: Uint8Array) {
        state += command[0] ?? 0
        return state
      },
      snapshot: () => Uint8Array.of(state),
      restore(snapshot: Uint8Array) {
        state = snapshot[0] ?? 0
      },
    } satisfies StateMachine
    expect(machine.apply(Uint8Array.of(5))).toBe(5)
    const snap = machine.snapshot()
    machine.apply(Uint8Array.of(1))
    machine.restore(snap)
    expect(state).toBe(5)

    const clock: Clock = {
      now: () => Date.now(),
      setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)) as unknown as TimerHandle,
      clearTimeout: (h) => clearTimeout(h as unknown as ReturnType<typeof setTimeout>),
    }
    const fired = await new Promise<boolean>((resolve) => {
      const cancelled = clock.setTimeout(() => resolve(false), 5)
      clock.clearTimeout(cancelled)
      clock.setTimeout(() => resolve(true), 10)
    })
    expect(fired).toBe(true)

    const random: Random = { next: () => 0.5 }
    expect(random.next()).toBeGreaterThanOrEqual(0)

    const lines: string[] = []
    const channel = (name: string, enabled: boolean): LogFunction =>
      Object.assign((formatter: string) => void (enabled && lines.push(`${name} ${formatter}`)), {
        enabled,
      })
    const logger: ComponentLogger = {
      forComponent: (name) =>
        Object.assign(channel(name, true), {
          error: channel(`${name}:error`, true),
          warn: channel(`${name}:warn`, true),
          trace: channel(`${name}:trace`, false),
        }),
    }
    const log = logger.forComponent('rony:gateway-ws')
    log('listening')
    if (log.trace.enabled) log.trace('never formatted')
    log.trace('dropped')
    expect(lines).toEqual(['rony:gateway-ws listening'])
  })
})
