// Acceptance of typed services (issue 15): a project of a user's own, outside the monorepo,
// on the packed tarballs installed with npm as a new user would. It defines Greeter in a
// `.proto` (test/user-project/), runs `npx rony gen`, typechecks strictly (nodenext for
// Node, bundler for the page, the packages' own .d.ts included, and lines that must not
// compile), serves the service, and calls it from Node and from a page in Chromium.
//
// Packs the packages as built (turbo builds them first) and needs the npm registry for the
// third-party packages (npm's cache makes a second run fast).
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumAvailable, chromiumSkipReason, launchChromium } from './chromium.ts'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const fixture = fileURLToPath(new URL('./user-project/', import.meta.url))
/** What the project installs from the monorepo: the server, the ws gateway, the client, codegen, and their @rony dependencies. */
const PACKAGES = ['interface', 'envelope', 'edge', 'gateway-ws', 'client', 'codegen']
/** Bound of each command; the first npm install on a fresh machine downloads ~65 packages. */
const COMMAND_TIMEOUT_MS = 150_000

type PackageJson = {
  version?: string
  packageManager?: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}
const readPackage = (dir: string): PackageJson =>
  JSON.parse(readFileSync(join(repo, dir, 'package.json'), 'utf8')) as PackageJson

/** The range the monorepo itself uses for a third-party package, so both stay in step. */
function rangeOf(name: string, dir: string): string {
  const pkg = readPackage(dir)
  const range = pkg.dependencies?.[name] ?? pkg.devDependencies?.[name]
  if (!range) throw new Error(`${dir}/package.json does not depend on ${name}`)
  return range
}

/**
 * The environment of a user's shell: this Node (≥ 22) first on PATH, and none of what the
 * pnpm running this test exports for its own scripts: `npm_*` settings, and a NODE_PATH
 * into the monorepo's node_modules that would hide a dependency missing from a tarball.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_)/i.test(key) && !['INIT_CWD', 'NODE_PATH'].includes(key)) env[key] = value
  }
  env.PATH = [dirname(process.execPath), process.env.PATH].join(delimiter)
  return env
}

/** Runs a command to completion; rejects with its output when it exits non-zero. */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, env: userEnv(), timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout)
        const output = `${stdout}${stderr}`.slice(-6_000)
        reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${output}`))
      },
    )
  })
}

/** Starts `node src/server.ts` and resolves with the page's URL once it listens. */
function startServer(project: string): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, ['src/server.ts'], { cwd: project, env: userEnv() })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail('did not print `listening <url>` within 20 s'), 20_000)
    function fail(why: string) {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`the user's server ${why}\n${output}`))
    }
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const url = /^listening (\S+)$/m.exec(output)?.[1]
      if (url) {
        clearTimeout(timer)
        resolve({ url, process: child })
      }
    })
    child.once('exit', (code, signal) => fail(`exited with ${signal ?? `code ${code}`}`))
  })
}

describe("a user's project on the packed tarballs", () => {
  let temp = ''
  let project = ''
  let server: { url: string; process: ChildProcess } | undefined
  let browser: Browser | undefined
  let typecheck: Promise<unknown> = Promise.resolve()

  beforeAll(async () => {
    temp = mkdtempSync(join(tmpdir(), 'rony-user-project-'))
    const tarballs = join(temp, 'tarballs')
    project = join(temp, 'greeter')
    const pnpm = ['-y', '--prefer-offline', readPackage('.').packageManager ?? 'pnpm']
    // Under turbo, the `test` task has built the packages first (dependsOn ^build); run by
    // hand (`pnpm test`, vitest), build them here, through turbo's cache.
    const filters = PACKAGES.flatMap((p) => ['--filter', `@rony/${p}`])
    if (!process.env.TURBO_HASH) {
      const turbo = ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only']
      await run('npx', [...pnpm, ...turbo], repo)
    }
    await run('npx', [...pnpm, '-r', ...filters, 'pack', '--pack-destination', tarballs], repo)

    cpSync(fixture, project, { recursive: true })
    const tarball = (p: string) =>
      `file:${join(tarballs, `rony-${p}-${readPackage(`packages/${p}`).version}.tgz`)}`
    const rony = (names: string[]) =>
      Object.fromEntries(names.map((p) => [`@rony/${p}`, tarball(p)]))
    const manifest = {
      name: 'greeter',
      private: true,
      type: 'module',
      dependencies: {
        ...rony(['client', 'edge', 'envelope', 'gateway-ws']),
        long: rangeOf('long', 'packages/envelope'),
        protobufjs: rangeOf('protobufjs', 'packages/envelope'),
      },
      devDependencies: {
        ...rony(['codegen']),
        '@types/node': rangeOf('@types/node', '.'),
        esbuild: rangeOf('esbuild', 'apps/demo'),
        typescript: rangeOf('typescript', '.'),
      },
      // The tarballs' own `@rony/*` dependencies (`^0.0.0`) come from the tarballs too.
      overrides: rony(PACKAGES),
    }
    writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], project)
    await run('npx', ['rony', 'gen', 'proto', '--out', 'src/gen'], project)

    // The slowest step runs while the service is exercised; its test awaits it.
    typecheck = Promise.all([
      run('npx', ['tsc', '-p', 'tsconfig.json'], project),
      run('npx', ['tsc', '-p', 'tsconfig.browser.json'], project),
    ])
    typecheck.catch(() => {}) // reported by its test
    await run(
      'npx',
      ['esbuild', 'src/browser.ts', '--bundle', '--format=esm', '--outfile=public/app.js'],
      project,
    )
    server = await startServer(project)
  }, 4 * COMMAND_TIMEOUT_MS)

  afterAll(async () => {
    await browser?.close()
    const child = server?.process
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    await typecheck.catch(() => {})
    if (temp) rmSync(temp, { recursive: true, force: true })
  }, 30_000)

  it('installs only tarballs for @rony packages, every one a real version', () => {
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; resolved?: string }>
    }
    const installed = Object.entries(lock.packages).filter(([path]) =>
      /node_modules\/@rony\//.test(path),
    )
    expect(installed.map(([path]) => path.replace(/^.*node_modules\//, '')).sort()).toEqual(
      PACKAGES.map((p) => `@rony/${p}`).sort(),
    )
    for (const [path, entry] of installed) {
      expect(entry.resolved, path).toMatch(/^file:.*\.tgz$/)
      const manifest = readFileSync(join(project, path, 'package.json'), 'utf8')
      expect(manifest, path).not.toContain('workspace:')
    }
  })

  it('answers a typed call from Node', async () => {
    const ws = `${server!.url.replace(/^http/, 'ws')}rpc`
    expect(await run(process.execPath, ['src/call.ts', ws, 'Ada'], project)).toBe(
      'hello, Ada (#1)\n',
    )
  }, 30_000)

  it.skipIf(!chromiumAvailable)(
    `answers a typed call from the page in Chromium${chromiumSkipReason}`,
    async () => {
      browser = await launchChromium()
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      await page.goto(server!.url)
      await page.locator('#answer', { hasText: /^hello, browser$/ }).waitFor({ timeout: 20_000 })
      expect(errors).toEqual([])
    },
    60_000,
  )

  it(
    'typechecks strictly, and a wrong request, response use or handler does not compile',
    async () => {
      // src/type-errors.ts: each wrong line carries @ts-expect-error, so one that compiled
      // would fail this run as an unused directive.
      await typecheck
    },
    2 * COMMAND_TIMEOUT_MS,
  )
})
