// Gemini streams come in two framings: SSE `data:` lines when the client asks `alt=sse`, else one
// JSON array written incrementally. The core carries the choice as an opaque framing name.

export const SSE = 'sse';
export const ARRAY = 'array';
