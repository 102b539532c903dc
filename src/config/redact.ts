// Secret fields stay readable by code but never reach a log through util.inspect / console.log or
// JSON.stringify: those see presence and counts only (G-SEC-50).

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

function describeSecret(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return `<${value.length} redacted>`;
  return value === '' ? '<empty>' : '<redacted>';
}

/** Adds non-enumerable inspect/toJSON views that mask `secrets`; call before freezing `obj`. */
export function redactSecrets<T extends object>(obj: T, secrets: readonly (keyof T)[]): T {
  const view = (): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
    for (const key of secrets) out[key as string] = describeSecret(obj[key]);
    return out;
  };
  Object.defineProperty(obj, INSPECT, { value: view, enumerable: false });
  Object.defineProperty(obj, 'toJSON', { value: view, enumerable: false });
  return obj;
}
