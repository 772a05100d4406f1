/**
 * The playground, until the edge exists: builds a few real envelopes (a Ping request, a
 * container of two, an error reply), prints their constructor ids and bytes, and decodes
 * each back, with the Go framework's ids.
 */
import {
  C_Ping,
  constructorOf,
  decodeContainer,
  decodeEnvelope,
  encodeContainer,
  encodeEnvelope,
  RonyError,
  rony,
} from '@rony/envelope'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** Runs the tour, writing each line through `print`. */
export function runDemo(print: (line: string) => void = console.log): void {
  const show = (title: string, bytes: Uint8Array): void =>
    print(`\n${title} (${bytes.length} bytes)\n  ${hex(bytes)}`)

  print('Constructor ids (CRC-64/GO-ISO of the message name, as the Go framework):')
  for (const name of [
    'MessageEnvelope',
    'MessageContainer',
    'Error',
    'Ping',
    'Pong',
    'EchoRequest',
  ]) {
    print(`  ${name.padEnd(17)} ${constructorOf(name)}`)
  }

  const ping = encodeEnvelope({
    ctor: C_Ping,
    requestId: 1n,
    message: rony.Ping.encode({ ID: 42 }).finish(),
    header: [{ key: 'trace', value: 'demo-1' }],
  })
  show('Ping request envelope', ping)
  const decodedPing = decodeEnvelope(ping)
  print(
    `  → ctor ${decodedPing.ctor} requestId ${decodedPing.requestId} Ping.ID ${rony.Ping.decode(decodedPing.message).ID} header ${JSON.stringify(decodedPing.header)}`,
  )

  const container = encodeContainer({
    envelopes: [
      { ctor: C_Ping, requestId: 2n, message: rony.Ping.encode({ ID: 1 }).finish() },
      { ctor: C_Ping, requestId: 3n, message: rony.Ping.encode({ ID: 2 }).finish() },
    ],
    syncRun: true,
  })
  show('MessageContainer of two Pings, syncRun', container)
  const decodedContainer = decodeContainer(container)
  print(
    `  → ${decodedContainer.envelopes.length} envelopes, requestIds ${decodedContainer.envelopes.map((e) => e.requestId).join(', ')}, syncRun ${decodedContainer.syncRun}`,
  )

  const failure = new RonyError('E01', 'HANDLER', 'unknown constructor 42')
  const errorReply = encodeEnvelope({
    ctor: constructorOf('Error'),
    requestId: 4n,
    message: rony.Error.encode(failure.toWire()).finish(),
  })
  show('Error reply envelope', errorReply)
  const received = RonyError.fromWire(rony.Error.decode(decodeEnvelope(errorReply).message))
  print(`  → ${received.message} (${received.code}, HTTP ${received.status})`)

  try {
    decodeEnvelope(Uint8Array.of(0x08, 0xff))
  } catch (error) {
    print(`\nGarbage bytes 08ff → ${error instanceof RonyError ? error.message : error}`)
  }
}
