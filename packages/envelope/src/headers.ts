/**
 * Envelope header keys with a meaning to Rony itself, shared by the client and the edge.
 */

/**
 * The client's session id, sent by `@rony/client` with idempotent requests. With the
 * request id it names a request across re-sends, so a clustered edge's `replicated`
 * handlers apply it once and answer a re-send with the first answer (exactly once).
 */
export const SESSION_HEADER = 'rony-session'
