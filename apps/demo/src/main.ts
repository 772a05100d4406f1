/**
 * `pnpm demo`: starts the playground cluster (a supervisor and its node processes, see
 * cluster/supervisor.ts) and prints the page's URL; Ctrl-C stops it all.
 *
 *   --nodes N      how many nodes (default 3)
 *   --port P       n1's page at P, n2's at P + 10, … (default 8080; 0: any free ports)
 *   --data DIR     where the nodes keep their data (default apps/demo/.data, wiped at start)
 *   --keep         keep the data of the last run
 *   --cli          the terminal REPL on the same supervisor (src/repl.ts)
 *   --single       the one-edge playground instead (src/single.ts)
 */
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { bundleForNode } from './bundle.ts'
import { type Supervisor, startSupervisor } from './cluster/supervisor.ts'

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url))
const started = performance.now()
const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    port: { type: 'string', default: process.env.PORT ?? '8080' },
    data: { type: 'string' },
    keep: { type: 'boolean', default: false },
    cli: { type: 'boolean', default: false },
    single: { type: 'boolean', default: false },
  },
})

/** Runs `entry` bundled with the workspace packages' sources (nothing to build first). */
async function importBundled<T>(entry: string, name: string): Promise<T> {
  return (await import(pathToFileURL(await bundleForNode(here(entry), name)).href)) as T
}

if (values.single) {
  await importBundled('./single.ts', 'single')
} else {
  const options = {
    nodes: Number(values.nodes),
    keepData: values.keep,
    ...(values.data === undefined ? {} : { dataDir: values.data }),
  }
  const basePort = Number(values.port)
  const supervisor = await startSupervisor({ ...options, basePort }).catch((error: Error) => {
    if (basePort === 0) throw error
    console.log(`could not start on ports from ${basePort} (${error.message}): using free ports`)
    return startSupervisor({ ...options, basePort: 0 })
  })
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    console.log('\nstopping the cluster…')
    void supervisor.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await supervisor.ready({ timeout: 30_000 })
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  const ids = supervisor.nodes().map((node) => node.id)
  console.log(
    `Rony playground: ${ids.length} nodes (${ids.join(' ')}), a leader elected, in ${seconds} s`,
  )
  console.log(`\n  ${supervisor.url}\n`)
  if (values.cli) {
    await runCli(supervisor)
    stop()
  } else console.log('Open it in a browser. Ctrl-C stops the cluster.')
}

async function runCli(supervisor: Supervisor): Promise<void> {
  const repl = await importBundled<{ runRepl(supervisor: Supervisor): Promise<void> }>(
    './repl.ts',
    'repl',
  )
  await repl.runRepl(supervisor)
}
