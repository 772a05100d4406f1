/**
 * Runs one non-Node server (an etcd member) for the Raft suite and ties its life to the
 * bench process: the command runs under coreutils `timeout <lifetime>` in its own process
 * group, and the group is killed when the IPC channel to the parent closes (the bench
 * exited or was killed), on SIGTERM/SIGINT, or when the lifetime ends.
 *
 *   node src/raft/keeper.ts <lifetime seconds> <command> [args...]
 *
 * Prints one line `{"pid":N,"pgid":M}` once the command started: the command's own PID (for
 * its CPU time in /proc) and its process group, which the parent kills itself when it has
 * to SIGKILL this process. The command's output goes to this process's stderr. Exits with
 * the command.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

const [lifetime = '600', command = '', ...args] = process.argv.slice(2)
// `timeout` (without --foreground) makes itself the leader of a new process group.
const child = spawn('timeout', ['--kill-after=5', lifetime, command, ...args], {
  stdio: ['ignore', 2, 2], // stdout stays free for the line above
  detached: true,
})

function killGroup(signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {}
}

let stopping = false
function stop(): void {
  if (stopping) return
  stopping = true
  killGroup('SIGTERM')
  setTimeout(() => {
    killGroup('SIGKILL')
    process.exit(1)
  }, 3_000).unref()
}

process.once('SIGTERM', stop)
process.once('SIGINT', stop)
process.on('disconnect', stop)
process.on('exit', () => killGroup('SIGKILL'))
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
child.once('error', (error) => {
  process.stderr.write(`${command}: ${error.message}\n`)
  process.exit(1)
})

/** The PID of `command` itself: the child of `timeout`, once it has forked. */
function commandPid(): number | undefined {
  try {
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')
    const pid = Number(children.trim().split(/\s+/)[0])
    return pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

const started = Date.now()
const announce = (): void => {
  const pid = commandPid()
  if (pid !== undefined || Date.now() - started > 5_000) {
    process.stdout.write(`${JSON.stringify({ pid: pid ?? null, pgid: child.pid })}\n`)
    return
  }
  setTimeout(announce, 5)
}
announce()
