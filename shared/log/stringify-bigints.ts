/**
 * pino writes a bigint as a bare JSON number, which readers that parse JSON into doubles (jq,
 * JavaScript, most log pipelines) silently round above 2^53: a term or a time tick would be
 * logged wrong. This turns bigints into decimal strings before pino serialises a line.
 */

/** Nesting depth explored; deeper values are left to pino unchanged (and cycles stay finite). */
const MAX_DEPTH = 8;

/**
 * Returns `value` with every bigint inside plain objects and arrays replaced by its decimal
 * string. Copies only along the paths that changed; returns `value` itself when nothing did.
 * Errors, Buffers and class instances are left for pino's serializers.
 */
export function stringifyBigints<T>(value: T): T {
  return convert(value, 0) as T;
}

function convert(value: unknown, depth: number): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const converted = convert(item, depth + 1);
      if (converted !== item) (copy ??= [...value])[i] = converted;
    });
    return copy ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const converted = convert(item, depth + 1);
    if (converted !== item) (copy ??= { ...value })[key] = converted;
  }
  return copy ?? value;
}
