import type { Operation } from '../../src/linearizability/check.js'
import type { KvInput, KvOutput } from '../../src/linearizability/kv-model.js'

export type Op = Operation<KvInput, KvOutput>

/** An operation of `client` over [call, ret]; `ret` Infinity (and no output) for an unknown outcome. */
export const op = (
  client: number,
  call: number,
  ret: number,
  input: KvInput,
  output?: KvOutput,
): Op => ({ client, input, output, call, return: ret })
