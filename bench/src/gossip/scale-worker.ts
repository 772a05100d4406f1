/**
 * One run of the gossip scale simulation in its own process, so each N gets a fresh heap
 * (the memory figure is its own), a heap limit sized for it, and a parent that can end it:
 *
 *   node --expose-gc src/gossip/scale-worker.ts
 *
 * Takes one `ScaleInit` (without `log`) over IPC, sends `{ type: 'log', line }` as phases
 * end and `{ type: 'result', result }` at the end, then exits. It also exits when the
 * parent goes away.
 */
import { type ScaleInit, simulateScale } from './scale.ts'

const send = (message: unknown): void => {
  if (process.connected) process.send?.(message)
}

process.once('message', async (init: Omit<ScaleInit, 'log'>) => {
  const result = await simulateScale({ ...init, log: (line) => send({ type: 'log', line }) })
  send({ type: 'result', result })
  process.disconnect()
  process.exit(0)
})
process.on('disconnect', () => process.exit(0))
