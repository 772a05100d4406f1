/**
 * The etcd load client of the Raft suite, in its own process, driven over IPC like the Rony
 * leader (`loop.ts`):
 *
 *   node src/raft/etcd-client.ts <leader's client host:port> <channels> [<leader PID>]
 *
 * It speaks etcd's v3 gRPC API (what etcd's clients and its `benchmark` tool use):
 * `etcdserverpb.KV/Put` of a 16-byte key and a 64-byte value, and `etcdserverpb.KV/Range`
 * of one key (linearizable, etcd's default: a ReadIndex round on the leader), over
 * `channels` HTTP/2 connections, calls spread round-robin. gRPC's wire format is written by
 * hand on `node:http2` (a POST per call: a 5-byte prefix + the protobuf message each way,
 * `grpc-status` in the trailers) and the messages are encoded once per key, so the client
 * spends as little CPU per call as Node allows: @grpc/grpc-js took 2.5× the CPU per call
 * here (≈ 370 vs 150 µs per Put on a loaded 2-vCPU VM), and etcd's throughput with it was
 * bounded by the client. With the leader's PID it also reports the leader's CPU time over
 * each phase (from /proc). Prints `{"ready":true}` once a Put went through.
 */
import http2 from 'node:http2'
import {
  KEY_SPACE,
  type LoadKind,
  type Operation,
  perKey,
  processCpuUs,
  serveLoads,
  VALUE,
} from './loop.ts'

const [target = '', channelsArg = '1', leaderPidArg = ''] = process.argv.slice(2)
const leaderPid = Number(leaderPidArg)
const channels = Math.max(1, Number(channelsArg))

/** Appends a length-delimited field (wire type 2) to `out`. */
function field(out: number[], fieldNumber: number, bytes: Uint8Array): void {
  out.push((fieldNumber << 3) | 2)
  let n = bytes.length
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  for (const b of bytes) out.push(b)
}

/** The top-level field numbers present in a protobuf message (varint and length-delimited). */
function fieldsOf(bytes: Buffer): Set<number> {
  const present = new Set<number>()
  let i = 0
  const varint = (): number => {
    let value = 0
    let shift = 0
    for (;;) {
      const b = bytes[i++]
      if (b === undefined) throw new Error('truncated protobuf')
      value += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return value
      shift += 7
    }
  }
  while (i < bytes.length) {
    const tag = varint()
    present.add(Math.floor(tag / 8))
    const wire = tag & 7
    if (wire === 0) varint()
    else if (wire === 2) {
      const length = varint()
      i += length
    } else throw new Error(`unexpected wire type ${wire}`)
  }
  return present
}

let next = 0

const sessions = Array.from({ length: channels }, () => {
  const session = http2.connect(`http://${target}`)
  session.on('error', () => {}) // a failed call rejects on its own stream
  return session
})

/** gRPC's wire format by hand: one length-prefixed message each way, status in the trailers. */
function call(method: string, request: Buffer): Promise<Buffer> {
  const session = sessions[next++ % sessions.length] as http2.ClientHttp2Session
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': method,
      'content-type': 'application/grpc',
      te: 'trailers',
    })
    const chunks: Buffer[] = []
    let status: string | undefined
    const onStatus = (headers: http2.IncomingHttpHeaders): void => {
      const s = headers['grpc-status']
      if (s !== undefined) status = String(s)
    }
    stream.on('response', onStatus)
    stream.on('trailers', onStatus)
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('error', reject)
    stream.on('close', () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
      if (status !== '0') reject(new Error(`grpc-status ${status ?? '(none)'}`))
      else if (body.length < 5) reject(new Error('empty gRPC reply'))
      else resolve(body.subarray(5, 5 + body.readUInt32BE(1)))
    })
    stream.end(request)
  })
}

/** A message with gRPC's 5-byte prefix: not compressed, then the length. */
const framed = (message: Buffer): Buffer => {
  const out = Buffer.alloc(5 + message.length)
  out.writeUInt32BE(message.length, 1)
  message.copy(out, 5)
  return out
}

/** PutRequest { bytes key = 1; bytes value = 2; }, one per key. */
const puts = perKey((key) => {
  const out: number[] = []
  field(out, 1, key)
  field(out, 2, VALUE)
  return framed(Buffer.from(out))
})

/** RangeRequest { bytes key = 1; } (serializable = false: linearizable), one per key. */
const ranges = perKey((key) => {
  const out: number[] = []
  field(out, 1, key)
  return framed(Buffer.from(out))
})

const op =
  (kind: LoadKind): Operation =>
  async (seq) => {
    if (kind === 'propose') {
      // PutResponse { ResponseHeader header = 1; }
      return fieldsOf(await call('/etcdserverpb.KV/Put', puts[seq % KEY_SPACE] as Buffer)).has(1)
    }
    // RangeResponse { header = 1; repeated KeyValue kvs = 2; ... }: the key was written.
    return fieldsOf(await call('/etcdserverpb.KV/Range', ranges[seq % KEY_SPACE] as Buffer)).has(2)
  }

serveLoads(
  op,
  () => {},
  async () => {
    for (const session of sessions) session.destroy()
  },
  leaderPid > 0 ? () => processCpuUs(leaderPid) : undefined,
)

// Ready once every connection carried a Put (bounded: the parent times out the start).
for (let i = 0; i < channels; i++) await op('propose')(i)
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
