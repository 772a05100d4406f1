import { Bench } from 'tinybench'

/**
 * A benchmark case. Sub-microsecond work is timed in batches (`batch` calls per sample)
 * so the timer's own cost does not swamp it; results are reported per call.
 */
export interface Case {
  name: string
  fn: () => void | Promise<void>
  /** Calls per timed sample (sync cases only). Default 1. */
  batch?: number
  /** Operations one call performs (e.g. requests in flight), for per-operation figures. Default 1. */
  ops?: number
  /** `fn` returns a promise to await inside the timed window. Default false. */
  async?: boolean
}

/** A claim checked after the run: an absolute bound or a ratio against another case. */
export type Goal =
  | { case: string; maxNs: number }
  | { case: string; fasterThan: string; factor: number }

export interface Suite {
  name: string
  description: string
  cases: Case[]
  /** The case that ratios are given against (1.00×). */
  baseline: string
  goals?: Goal[]
  /** Runs before the cases (start servers); nothing runs for suites filtered out. */
  setup?(): Promise<void>
  /** Runs after the cases, also when one fails (stop servers). */
  teardown?(): Promise<void>
}

export interface CaseResult {
  name: string
  /** Median and mean ns per call, and the relative margin of error (%). */
  medianNs: number
  meanNs: number
  rme: number
  samples: number
}

export interface RunOptions {
  /** Time spent on each case, in ms: tinybench stops sampling a case after it. */
  timeMs: number
}

export async function runSuite(suite: Suite, options: RunOptions): Promise<CaseResult[]> {
  const bench = new Bench({
    name: suite.name,
    time: options.timeMs,
    iterations: 16,
    warmupTime: Math.min(250, options.timeMs / 4),
    warmupIterations: 16,
  })
  const perSample = new Map<string, number>()
  for (const { name, fn, batch = 1, ops = 1, async = false } of suite.cases) {
    perSample.set(name, batch * ops)
    bench.add(
      name,
      batch === 1
        ? fn
        : () => {
            for (let i = 0; i < batch; i++) void fn()
          },
      { async },
    )
  }
  await suite.setup?.()
  try {
    await bench.run()
  } finally {
    await suite.teardown?.()
  }
  return bench.tasks.map((task) => {
    const result = task.result
    if (!('latency' in result)) {
      const error = 'error' in result ? result.error : new Error(`task ${task.name} did not run`)
      throw error
    }
    const ops = perSample.get(task.name) ?? 1
    return {
      name: task.name,
      medianNs: (result.latency.p50 * 1e6) / ops,
      meanNs: (result.latency.mean * 1e6) / ops,
      rme: result.latency.rme,
      samples: result.latency.samplesCount,
    }
  })
}

function byName(results: CaseResult[], name: string): CaseResult {
  const result = results.find((r) => r.name === name)
  if (!result) throw new Error(`no case named ${name}`)
  return result
}

export interface GoalResult {
  text: string
  met: boolean
}

export function checkGoals(suite: Suite, results: CaseResult[]): GoalResult[] {
  return (suite.goals ?? []).map((goal) => {
    const subject = byName(results, goal.case)
    if ('maxNs' in goal) {
      return {
        text: `${goal.case} ≤ ${goal.maxNs} ns (measured ${subject.medianNs.toFixed(0)} ns)`,
        met: subject.medianNs <= goal.maxNs,
      }
    }
    const ratio = byName(results, goal.fasterThan).medianNs / subject.medianNs
    return {
      text: `${goal.case} ≥ ${goal.factor}× faster than ${goal.fasterThan} (measured ${ratio.toFixed(2)}×)`,
      met: ratio >= goal.factor,
    }
  })
}

const formatNs = (ns: number): string =>
  ns >= 1e6
    ? `${(ns / 1e6).toFixed(2)} ms`
    : ns >= 1e3
      ? `${(ns / 1e3).toFixed(2)} µs`
      : `${ns.toFixed(0)} ns`

/** The suite's results as a markdown table, ratios against the baseline case. */
export function toMarkdown(suite: Suite, results: CaseResult[], goals: GoalResult[]): string {
  const base = byName(results, suite.baseline)
  const lines = [
    `### ${suite.name}`,
    '',
    suite.description,
    '',
    `| case | median / op | mean / op | ± | ops/s | time vs ${suite.baseline} |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.name} | ${formatNs(r.medianNs)} | ${formatNs(r.meanNs)} | ${r.rme.toFixed(1)}% | ${Math.round(1e9 / r.medianNs).toLocaleString('en-US')} | ${(r.medianNs / base.medianNs).toFixed(2)}× |`,
    ),
  ]
  if (goals.length > 0) {
    lines.push('', ...goals.map((g) => `- ${g.met ? '✅' : '❌'} goal: ${g.text}`))
  }
  return `${lines.join('\n')}\n`
}
