/**
 * One @rony/raft server in its own process for the Raft suite: TCP on `address`, a durable
 * WAL in `dataDir`, a small key-value state machine, driven over IPC:
 *
 *   node src/raft/server.ts <id> <address> <peers JSON> <dataDir>
 *
 * It prints one line `{"ready":true}` once started. `{ type: 'state', req }` answers role,
 * leader and indexes; `{ type: 'load', ... }` (see `loop.ts`) runs a load phase right here —
 * proposals of a 16-byte key + 64-byte value, or `readIndex()` followed by a local read — so
 * no client hop or client process takes CPU from the cluster. Exits on SIGTERM and when the
 * parent goes away (IPC disconnect), after `stop()` (which lets `--cpu-prof` write).
 */
import { raft } from '@rony/raft'
import {
  KEY_BYTES,
  KEY_SPACE,
  keyText,
  type LoadKind,
  type Operation,
  perKey,
  serveLoads,
  VALUE,
} from './loop.ts'

const [id = '', address = '', peersJson = '[]', dataDir = ''] = process.argv.slice(2)
const untext = new TextDecoder()
const text = new TextEncoder()

/** The state machine: command = key (16 bytes) + value; apply stores the value under the key. */
const data = new Map<string, Uint8Array>()
const node = raft({
  id,
  bind: address,
  peers: JSON.parse(peersJson) as { id: string; address: string }[],
  bootstrap: true,
  dataDir,
  stateMachine: {
    apply(command) {
      const key = Buffer.from(command.buffer, command.byteOffset, KEY_BYTES).toString('latin1')
      data.set(key, command.subarray(KEY_BYTES))
    },
    snapshot: () =>
      text.encode(
        JSON.stringify([...data].map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      ),
    restore(bytes) {
      data.clear()
      for (const [k, v] of JSON.parse(untext.decode(bytes)) as [string, string][]) {
        data.set(k, Buffer.from(v, 'base64'))
      }
    },
  },
})

/** The commands, one per key: key (16 bytes) + value (64 bytes). */
const commands = perKey((key) => {
  const bytes = new Uint8Array(KEY_BYTES + VALUE.length)
  bytes.set(key, 0)
  bytes.set(VALUE, KEY_BYTES)
  return bytes
})
const keys = Array.from({ length: KEY_SPACE }, (_, i) => keyText(i))

const op =
  (kind: LoadKind): Operation =>
  async (seq) => {
    if (kind === 'propose') {
      await node.propose(commands[seq % KEY_SPACE] as Uint8Array)
      return true
    }
    await node.readIndex()
    // A linearizable read of one key (written by the propose phases before).
    return data.get(keys[seq % KEY_SPACE] as string) !== undefined
  }

serveLoads(
  op,
  (message) => {
    if (message?.type === 'state') {
      process.send?.({
        type: 'state',
        req: message.req,
        role: node.role,
        leaderId: node.leaderId,
        term: node.term,
        commitIndex: node.commitIndex,
        appliedIndex: node.appliedIndex,
      })
    }
  },
  () => node.stop(),
)
await node.start()
process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
