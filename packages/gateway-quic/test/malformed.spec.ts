import { C_Error, decodeEnvelope, RonyError, rony } from '@rony/envelope'
import type { Gateway } from '@rony/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { QUIC_CLOSE_CODES, quicGateway } from '../src/index.js'
import { type RawQuic, Recorder, rawConnect } from './helpers.js'

// Bytes a peer controls, over a real QUIC stream: framing errors close that stream with an
// E01 ENVELOPE error envelope first, never crash the process, and the gateway keeps serving.

const LIMIT = 1024
const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.()
})

async function setup(): Promise<{ gateway: Gateway; recorder: Recorder; address: string }> {
  const gateway = quicGateway({ maxMessageSize: LIMIT })
  const recorder = new Recorder()
  gateway.attach(recorder)
  cleanups.push(async () => gateway.stop())
  await gateway.start()
  return { gateway, recorder, address: gateway.addresses()[0] as string }
}

async function connect(address: string): Promise<RawQuic> {
  const raw = await rawConnect(address)
  cleanups.push(async () => raw.node.stop())
  return raw
}

/** The error envelope the gateway sends before closing a stream whose framing broke. */
async function framingError(raw: RawQuic): Promise<RonyError> {
  const envelope = decodeEnvelope(await raw.next())
  expect([envelope.ctor, envelope.requestId]).toEqual([C_Error, 0n])
  return RonyError.fromWire(rony.Error.decode(envelope.message))
}

/** A valid frame on a new connection is echoed back: the gateway still serves. */
async function stillServes(address: string): Promise<void> {
  const raw = await connect(address)
  raw.send(Uint8Array.of(7, 7, 7))
  expect([...(await raw.next())]).toEqual([7, 7, 7])
}

describe('malformed framing over a real connection', () => {
  it('refuses a length prefix over maxMessageSize before buffering the body', async () => {
    const { recorder, address } = await setup()
    const raw = await connect(address)
    // varint(1025) = 0x81 0x08, and not a byte of the body.
    raw.sendRaw(Uint8Array.of(0x81, 0x08))
    expect(await framingError(raw)).toMatchObject({ wireCode: 'E01', items: 'ENVELOPE' })
    await raw.closed
    await recorder.waitFor((e) => e.type === 'close')
    expect(recorder.of('message')).toHaveLength(0)
    expect(recorder.of('close')[0]?.reason).toMatchObject({
      initiator: 'local',
      code: QUIC_CLOSE_CODES.MESSAGE_TOO_BIG,
      reason: 'message too big',
    })
    await stillServes(address)
  })

  it('accepts a frame of exactly maxMessageSize, split across writes', async () => {
    const { address } = await setup()
    const raw = await connect(address)
    const body = new Uint8Array(LIMIT).fill(5)
    raw.sendRaw(Uint8Array.of(0x80, 0x08)) // varint(1024)
    raw.sendRaw(body.subarray(0, 100))
    raw.sendRaw(body.subarray(100))
    expect((await raw.next()).length).toBe(LIMIT)
  })

  it('closes a stream with a length prefix longer than 5 bytes (protocol error)', async () => {
    const { recorder, address } = await setup()
    const raw = await connect(address)
    raw.sendRaw(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01))
    expect((await framingError(raw)).description).toMatch(/prefix too long/)
    await recorder.waitFor((e) => e.type === 'close')
    const reason = recorder.of('close')[0]?.reason
    expect(reason).toMatchObject({ initiator: 'error', code: QUIC_CLOSE_CODES.PROTOCOL_ERROR })
    expect(reason?.error).toBeInstanceOf(RonyError)
    await stillServes(address)
  })

  it('treats a stream that ends inside a frame as a protocol error', async () => {
    const { recorder, address } = await setup()
    const raw = await connect(address)
    raw.sendRaw(Uint8Array.of(0x10, 1, 2)) // 16 bytes announced, 2 sent
    await raw.closeWrite()
    await recorder.waitFor((e) => e.type === 'close')
    expect(recorder.of('close')[0]?.reason).toMatchObject({
      initiator: 'error',
      code: QUIC_CLOSE_CODES.PROTOCOL_ERROR,
    })
    expect(recorder.of('message')).toHaveLength(0)
    await stillServes(address)
  })

  it('answers frames before the malformed write; nothing after it reaches the edge', async () => {
    const { recorder, address } = await setup()
    const raw = await connect(address)
    raw.sendRaw(Uint8Array.of(0x01, 0xaa, 0x02, 0xbb, 0xcc))
    expect([...(await raw.next())]).toEqual([0xaa])
    expect([...(await raw.next())]).toEqual([0xbb, 0xcc])
    // FrameDecoder throws for the whole chunk: frames sharing a chunk with the bad prefix
    // are dropped with it (the stream's framing is lost either way).
    raw.sendRaw(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x03, 1, 2, 3))
    expect(await framingError(raw)).toMatchObject({ wireCode: 'E01' })
    await recorder.waitFor((e) => e.type === 'close')
    expect(recorder.of('message').map((e) => e.data.length)).toEqual([1, 2])
  })
})
