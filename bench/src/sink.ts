/** A module-level store keeps benchmark results observable, so the JIT cannot drop the work. */
export let kept: unknown

export function sink(value: unknown): void {
  kept = value
}
