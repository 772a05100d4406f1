/**
 * Constructor ids of the built-in messages, as the Go framework's generated `C_Xxx`
 * constants (tests recompute each with `constructorOf`).
 */
export const C_MessageEnvelope = 11385363697628734430n
export const C_MessageContainer = 8705479839606992738n
export const C_Error = 3300063058275074048n
export const C_KeyValue = 9712539143259722476n
export const C_Redirect = 12783312295490183931n
export const C_Edge = 3661905149145645056n
export const C_Edges = 3202852853167161344n
export const C_Ping = 3584172304239689728n
export const C_Pong = 3584174915579805696n
export const C_GetNodes = 17614373553603896039n
export const C_GetAllNodes = 2426091802953969362n
