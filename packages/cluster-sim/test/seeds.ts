/**
 * The seeds a seeded spec runs: `count` of them from `offset + 1` by default (the CI
 * count), `SEEDS=n` for more or fewer, `SEED=s` to replay one.
 */
export function seeds(count: number, offset: number): number[] {
  if (process.env.SEED) return [Number(process.env.SEED)]
  const n = Number(process.env.SEEDS ?? count)
  return Array.from({ length: n }, (_, i) => offset + i + 1)
}

/** The simulated time each seeded schedule runs, in ms: `SIM_DURATION`, default 3000. */
export const duration = Number(process.env.SIM_DURATION ?? 3000)
