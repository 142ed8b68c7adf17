// Reading the benches' BENCH_* environment variables: undefined for one unset or blank, an error
// naming the variable for a value that does not fit.

/** A comma-separated list. */
export function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A number of at least min (whole: an integer too). */
export function atLeast(value: string | undefined, name: string, min: number, whole = false): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (whole && !Number.isInteger(n))) {
    throw new Error(`${name}: expected ${whole ? 'a whole number' : 'a number'} >= ${min}, got ${value}`);
  }
  return n;
}

/** A list of positive whole numbers. */
export function wholeNumbers(value: string | undefined, name: string): number[] | undefined {
  return list(value)?.map((item) => {
    const n = Number(item);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: not a positive whole number: ${item}`);
    return n;
  });
}

/**
 * A list of allowed words. inAllowedOrder: returned in the order of `allowed`, not as given,
 * so that a report's rows stay in one place across runs.
 */
export function members<T extends string>(
  value: string | undefined, allowed: readonly T[], name: string, inAllowedOrder = false,
): T[] | undefined {
  const items = list(value);
  if (!items) return undefined;
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${name}: ${item} is not one of ${allowed.join(', ')}`);
  return inAllowedOrder ? allowed.filter((a) => items.includes(a)) : (items as T[]);
}
