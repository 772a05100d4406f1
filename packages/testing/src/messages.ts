import { rony } from './gen/testing.js'

/**
 * The messages of proto/rony/testing.proto, as generated protobufjs classes: the
 * services every compliance suite runs against.
 */
export const Echo = rony.testing.Echo
export type Echo = rony.testing.Echo
export const EchoReply = rony.testing.EchoReply
export type EchoReply = rony.testing.EchoReply
export const PushMany = rony.testing.PushMany
export type PushMany = rony.testing.PushMany
export const Fail = rony.testing.Fail
export type Fail = rony.testing.Fail
