import { describe, expect, it } from 'vitest'
import { runDemo } from '../src/demo.ts'

describe('demo', () => {
  const lines: string[] = []
  runDemo((line) => lines.push(...line.split('\n')))
  const output = lines.join('\n')

  it("prints the Go framework's constructor ids", () => {
    expect(output).toMatch(/MessageEnvelope +11385363697628734430\n/)
    expect(output).toMatch(/Ping +3584172304239689728\n/)
  })

  it('decodes each envelope back to what went in', () => {
    expect(output).toContain(
      '→ ctor 3584172304239689728 requestId 1 Ping.ID 42 header [{"key":"trace","value":"demo-1"}]',
    )
    expect(output).toContain('→ 2 envelopes, requestIds 2, 3, syncRun true')
    expect(output).toContain('→ E01:HANDLER (unknown constructor 42) (RONY_ERR_INVALID, HTTP 400)')
    expect(output).toContain('Garbage bytes 08ff → E01:ENVELOPE (truncated message)')
  })

  it('prints the hand-checkable bytes of the Ping envelope', () => {
    const fields = [
      '08 8080808089b7e2de31', // Constructor: C_Ping as a 9-byte varint
      '11 0100000000000000', // RequestID 1, fixed64
      '22 02 082a', // Message: Ping { ID: 42 }
      '52 0f 0a05 7472616365 1206 64656d6f2d31', // Header { trace: demo-1 }
    ]
    expect(output).toContain(fields.join('').replaceAll(' ', ''))
  })
})
