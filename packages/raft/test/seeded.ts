import { seededRandom } from '@rony/transport'

/** Draws in [0, 1) from a seed, so a failing test replays exactly from its seed. */
export function seeded(seed: number): () => number {
  const random = seededRandom(seed)
  return () => random.next()
}
