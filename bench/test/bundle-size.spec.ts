import { describe, expect, it } from 'vitest'
import { CEILING_GZIP } from '../src/bundle/limits.ts'
import { type BundleSize, measureBundle } from '../src/bundle/measure.ts'

// Generating the Greeter (jsdoc for its declarations) takes seconds on a busy machine.
const GENERATE_AND_BUNDLE_MS = 120_000

describe('browser bundle of @rony/client + one generated service', () => {
  let size: BundleSize
  const measured = async (): Promise<BundleSize> => {
    size ??= await measureBundle('src')
    return size
  }

  it('stays within the enforced gzip ceiling', { timeout: GENERATE_AND_BUNDLE_MS }, async () => {
    const { gzip, packages } = await measured()
    expect(gzip, `gzip ${gzip} B; by package: ${JSON.stringify(packages)}`).toBeLessThanOrEqual(
      CEILING_GZIP,
    )
  })

  it('pulls in nothing Node-only (libp2p, the QUIC dialer, ws)', {
    timeout: GENERATE_AND_BUNDLE_MS,
  }, async () => {
    const { inputs } = await measured()
    const nodeOnly = inputs.filter((input) =>
      /libp2p|multiaddr|quic-dialer|node_modules\/ws\//.test(input.path),
    )
    expect(nodeOnly).toEqual([])
  })
})
