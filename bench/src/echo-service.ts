/**
 * A one-method service over the test messages, for the typed-call rows of the ws suite:
 * what `rony gen` emits for
 *
 *   service BenchEcho { rpc Echo (rony.testing.Echo) returns (rony.testing.EchoReply); }
 *
 * The rony server kind of `servers/ws-server.ts` serves it by its method id only
 * (`byRequestType: false`: the test services already answer `Echo` by its own id), so a
 * typed call and a plain `request()` of the same message reach the same handler code.
 */
import { constructorOf, type MethodDescriptor, type ServiceDescriptor } from '@rony/envelope'
import { Echo, EchoReply } from '@rony/testing'

export const C_BenchEchoEcho = constructorOf('BenchEchoEcho')

export const BenchEcho: ServiceDescriptor<{
  readonly echo: MethodDescriptor<Echo, EchoReply>
}> = {
  name: 'BenchEcho',
  fullName: 'rony.testing.BenchEcho',
  noClient: false,
  methods: {
    echo: {
      name: 'Echo',
      ctor: C_BenchEchoEcho,
      input: Echo,
      output: EchoReply,
      options: { mode: 'local', consistency: 'linearizable', internal: false },
    },
  },
}
