/**
 * A state machine that throws stops the node loudly: callers get RONY_ERR_STATE_MACHINE with
 * the machine's error as cause, `raft:error` fires, the logger's error channel (or, with
 * neither, the console) reports it, and the node no longer says it leads.
 */
import type { CodedError, ComponentLogger, StateMachine } from '@rony/interface'
import { type VirtualClock, virtualClock } from '@rony/transport'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { memoryStorage, type RaftNode, raft } from '../src/index.js'
import { command, KvMachine } from './node-harness.js'

const boom = new Error('the state machine broke')

/** Throws on the key `boom`. */
class BrittleMachine extends KvMachine {
  override apply(bytes: Uint8Array): string | undefined {
    if (new TextDecoder().decode(bytes).startsWith('boom=')) throw boom
    return super.apply(bytes)
  }
}

function errorsTo(lines: unknown[][]): ComponentLogger {
  const silent = Object.assign(() => {}, { enabled: false })
  const error = Object.assign((...args: unknown[]) => void lines.push(args), { enabled: true })
  return {
    forComponent: () =>
      Object.assign(() => {}, { enabled: false, error, warn: silent, trace: silent }),
  }
}

/** A one-server cluster on a virtual clock: it elects itself. */
async function solo(
  clock: VirtualClock,
  machine: StateMachine,
  logger?: ComponentLogger,
): Promise<RaftNode> {
  const node = raft({
    id: 'solo',
    bootstrap: true,
    storage: memoryStorage(),
    transport: {
      address: 'memory:solo',
      start: async () => {},
      send: () => {},
      stop: async () => {},
      stats: () => ({ queueDrops: 0, malformed: 0 }),
    },
    stateMachine: machine,
    clock,
    ...(logger === undefined ? {} : { logger }),
  })
  await node.start()
  for (let i = 0; i < 100 && node.role !== 'leader'; i++) await clock.advanceAsync(10)
  expect(node.role).toBe('leader')
  return node
}

async function until<T>(clock: VirtualClock, promise: Promise<T>): Promise<T> {
  let done = false
  const watched = promise.finally(() => {
    done = true
  })
  watched.catch(() => {})
  for (let i = 0; i < 1000 && !done; i++) await clock.advanceAsync(5)
  return watched
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('a state machine whose apply throws', () => {
  it('rejects the callers with RONY_ERR_STATE_MACHINE (cause: its error), fires raft:error, logs it, and stops leading', async () => {
    const clock = virtualClock()
    const logged: unknown[][] = []
    const node = await solo(clock, new BrittleMachine(), errorsTo(logged))
    const events: CodedError[] = []
    const roles: string[] = []
    node.on('raft:error', (error) => events.push(error))
    node.on('raft:role', (role) => roles.push(role))

    const fine = await until(clock, node.propose(command('a', '1')))
    expect(fine.index).toBeGreaterThan(0)
    const failed = await until(clock, node.propose(command('boom', '1'))).catch((e: unknown) => e)
    expect(failed).toMatchObject({ code: 'RONY_ERR_STATE_MACHINE' })
    expect((failed as Error).cause).toBe(boom)
    expect(events).toEqual([failed])
    expect(logged.flat()).toContain(failed)

    await until(clock, new Promise((resolve) => setImmediate(resolve)))
    expect(node.role).toBe('follower')
    expect(roles).toContain('follower')
    expect(node.leaderId).toBeUndefined()
    // Later calls say why the node stopped, rather than "after stop()".
    await expect(node.propose(command('a', '2'))).rejects.toBe(failed)
    await expect(node.readIndex()).rejects.toBe(failed)
    await expect(node.start()).rejects.toBe(failed)
  })

  it('with neither a logger nor a raft:error listener, the error still reaches the console', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {})
    const clock = virtualClock()
    const node = await solo(clock, new BrittleMachine())
    const failed = await until(clock, node.propose(command('boom', '1'))).catch((e: unknown) => e)
    expect(failed).toMatchObject({ code: 'RONY_ERR_STATE_MACHINE' })
    expect(printed).toHaveBeenCalledWith(expect.stringContaining('rony:raft:solo'), failed)
  })
})
