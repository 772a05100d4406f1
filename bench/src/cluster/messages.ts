/**
 * The cluster suite's service: `ReplicatedEcho` (a replicated handler that counts and
 * answers its input), `ReadCount` (a linearizable read of that count) and, on the same edge,
 * the test services' local `Echo`. Shared by the edge processes and the load client.
 */
import { constructorOf, encodeEnvelope, type MessageType } from '@rony/envelope'
import protobuf from 'protobufjs'

const root = protobuf.parse(`
  syntax = "proto3";
  package bench;
  message ReplicatedEcho { bytes Payload = 1; }
  message ReadCount {}
  message Count { double Value = 1; }
`).root

function reflected<T>(name: string): MessageType<T> & protobuf.Type {
  return root.lookupType(name) as unknown as MessageType<T> & protobuf.Type
}

export const ReplicatedEcho = reflected<{ Payload: Uint8Array }>('bench.ReplicatedEcho')
export const ReadCount = reflected<object>('bench.ReadCount')
export const Count = reflected<{ Value: number }>('bench.Count')
export const C_ReplicatedEcho = constructorOf('ReplicatedEcho')
export const C_ReadCount = constructorOf('ReadCount')
export const C_Count = constructorOf('Count')

/** The payload of every request, as in the ws suite: 64 bytes. */
export const PAYLOAD = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)

/** A request envelope of `type` with `message`, under request id `id`. */
export function requestBytes(ctor: bigint, message: Uint8Array, id: bigint): Uint8Array {
  return encodeEnvelope({ ctor, requestId: id, message })
}
