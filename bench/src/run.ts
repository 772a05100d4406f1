/**
 * Runs the benchmark suites and prints (and saves) one markdown table per suite.
 *
 *   pnpm bench                         # every suite
 *   pnpm bench --filter envelope       # suites whose name matches the regex
 *   pnpm bench --time 2000             # ms per case (default 1000)
 *   pnpm --filter @rony/bench profile -- --filter envelope   # with --cpu-prof
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { checkGoals, runSuite, type Suite, toMarkdown } from './harness.ts'
import type { LoadSuite } from './load.ts'
import { bundleSuite } from './suites/bundle.ts'
import { clusterSuite } from './suites/cluster.ts'
import { dispatchSuite } from './suites/dispatch.ts'
import { constructorSuite, containerSuite, envelopeSuite } from './suites/envelope.ts'
import { gossipSuite } from './suites/gossip.ts'
import { gossipScaleSuite } from './suites/gossip-scale.ts'
import { gossipSocketsSuite } from './suites/gossip-sockets.ts'
import { httpSuite } from './suites/http.ts'
import { memorySuite } from './suites/memory.ts'
import { quicSuite } from './suites/quic.ts'
import { raftSuite } from './suites/raft.ts'
import { wsSuite } from './suites/ws.ts'

const suites: (Suite | LoadSuite)[] = [
  envelopeSuite,
  containerSuite,
  constructorSuite,
  dispatchSuite,
  wsSuite,
  httpSuite,
  quicSuite,
  memorySuite,
  gossipSuite,
  gossipScaleSuite,
  gossipSocketsSuite,
  raftSuite,
  clusterSuite,
  bundleSuite,
]

const { values } = parseArgs({
  options: {
    filter: { type: 'string', short: 'f' },
    time: { type: 'string', short: 't', default: '1000' },
    out: {
      type: 'string',
      short: 'o',
      default: new URL('../results/latest.md', import.meta.url).pathname,
    },
  },
})

const filter = values.filter ? new RegExp(values.filter, 'i') : undefined
const selected = suites.filter((s) => !filter || filter.test(s.name))
if (selected.length === 0) {
  console.error(
    `no suite matches ${values.filter}; suites: ${suites.map((s) => s.name).join(', ')}`,
  )
  process.exit(2)
}

const timeMs = Number(values.time)
const cpu = cpus()[0]?.model ?? 'unknown CPU'
const header = `## Rony benchmarks\n\n${new Date().toISOString()} · Node ${process.version} · ${cpus().length}× ${cpu} · ${timeMs} ms per case\n`
const sections = [header]
console.log(header)
for (const suite of selected) {
  let section: string
  if ('kind' in suite && suite.kind === 'load') {
    // Load tests (separate server processes) bound themselves in count and time.
    section = await suite.run()
  } else {
    const micro = suite as Suite
    const results = await runSuite(micro, { timeMs })
    section = toMarkdown(micro, results, checkGoals(micro, results))
  }
  console.log(section)
  sections.push(section)
}
mkdirSync(new URL('../results/', import.meta.url), { recursive: true })
writeFileSync(values.out, sections.join('\n'))
console.log(`saved ${values.out}`)
