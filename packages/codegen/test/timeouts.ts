/** Generating runs jsdoc for the declarations: about 1 s a file alone, far more on a busy CI. */
export const GENERATE_TIMEOUT_MS = 120_000

/** A whole tsc program over generated declarations and envelope's sources: seconds alone, 35 s seen on a loaded CI. */
export const TYPECHECK_TIMEOUT_MS = 120_000
