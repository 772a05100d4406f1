/** Generating runs jsdoc for the declarations: about 1 s a file alone, far more on a busy CI. */
export const GENERATE_TIMEOUT_MS = 120_000
