/**
 * A few processes discovering each other over real UDP + TCP on 127.0.0.1:
 *
 *   pnpm gossip:example          (from the repository root; builds, then runs this file)
 *
 * The parent starts NODES child processes of this same file. The first binds a free port
 * and becomes the seed; the others join through it. Every node prints its membership
 * events. After a while one node leaves gracefully (the others see 'left') and one is
 * killed (the others see 'suspect', then 'failed'); then everything stops. Bounded: the
 * whole run ends within RUN_MS.
 */
import { fork } from 'node:child_process'
import { gossip } from '@rony/gossip'

const NODES = 4
const RUN_MS = 30_000

async function child(id: string, seed: string | undefined): Promise<void> {
  const g = gossip({
    id,
    bind: '127.0.0.1:0',
    seeds: seed === undefined ? [] : [seed],
    meta: { pid: String(process.pid) },
    profile: 'local',
  })
  const say = (text: string): void => console.log(`${id.padEnd(3)} ${text}`)
  g.on('member:join', (m) => say(`join    ${m.id} at ${m.address} ${JSON.stringify(m.meta)}`))
  g.on('member:update', (m) => say(`update  ${m.id}`))
  g.on('member:suspect', (m) => say(`suspect ${m.id}`))
  g.on('member:leave', (m, reason) => {
    say(`leave   ${m.id} (${reason})`)
    if (reason === 'failed') process.send?.({ failed: m.id })
  })
  await g.start()
  process.send?.({ address: g.local.address })
  process.on('message', async (command: string) => {
    if (command === 'leave') await g.leave()
    await g.stop()
    process.exit(0)
  })
}

async function parent(): Promise<void> {
  const children = [] as ReturnType<typeof fork>[]
  const start = (id: string, seed?: string): Promise<string> => {
    const proc = fork(import.meta.filename, seed === undefined ? [id] : [id, seed])
    children.push(proc)
    return new Promise((resolve) =>
      proc.once('message', (m: { address: string }) => resolve(m.address)),
    )
  }
  const hardStop = setTimeout(() => {
    for (const proc of children) proc.kill('SIGKILL')
    process.exit(1)
  }, RUN_MS)
  const seed = await start('n1')
  console.log(`seed n1 at ${seed}`)
  for (let i = 2; i <= NODES; i++) await start(`n${i}`, seed)
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
  await pause(2_000)
  console.log('--- n2 leaves gracefully')
  children[1]?.send('leave')
  await pause(2_000)
  console.log(`--- n${NODES} is killed`)
  // The survivors report when they declare it failed (after Lifeguard's suspicion timeout).
  const survivors = NODES - 2
  let failed = 0
  const allFailed = new Promise<void>((resolve) => {
    for (const proc of children) {
      proc.on('message', (m: { failed?: string }) => {
        if (m.failed === `n${NODES}` && ++failed === survivors) resolve()
      })
    }
  })
  children[NODES - 1]?.kill('SIGKILL')
  await allFailed
  console.log('--- stopping')
  for (const proc of children) if (proc.connected) proc.send('stop')
  await Promise.all(
    children.map(
      (proc) =>
        new Promise((resolve) =>
          proc.exitCode !== null || proc.signalCode !== null
            ? resolve(null)
            : proc.once('exit', resolve),
        ),
    ),
  )
  clearTimeout(hardStop)
}

const [id, seed] = process.argv.slice(2)
if (id === undefined) await parent()
else await child(id, seed)
