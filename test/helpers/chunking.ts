/** The ways every incremental parser is fed in tests: whole, byte by byte, split at every offset. */
export function* feedings(input: Buffer): Generator<{ name: string; chunks: Buffer[] }> {
  yield { name: 'whole', chunks: [input] };
  yield { name: 'byte by byte', chunks: [...input].map((_, i) => input.subarray(i, i + 1)) };
  for (let split = 1; split < input.length; split++) {
    yield { name: `split at ${split}`, chunks: [input.subarray(0, split), input.subarray(split)] };
  }
}
