/**
 * Differential fuzzing: random sequences (wire-arbitraries.ts) go to memcached 1.6.18 and to
 * memgate, replies are compared write by write, and a sequence that answers differently is
 * shrunk by fast-check to a minimal one, printed as a reproducer. Runs are bounded by a time
 * limit and a count; a seed makes them repeatable.
 */
import fc from 'fast-check';
import { compare, describe, type Pair, type Protocol, type Sequence, type Write } from './differential-pair.js';
import { binaryCommand, textCommand, type Op } from './wire-arbitraries.js';

export interface FuzzOptions {
  seed: number;
  timeLimitMs: number;
  /** upper bound on sequences per protocol */
  maxRuns?: number;
  protocols?: Protocol[];
  log?: (line: string) => void;
}

export interface FuzzResult {
  protocol: Protocol;
  /** sequences run, shrinking attempts included */
  sequences: number;
  /** the minimal reproducer, when a difference was found */
  failure?: string;
}

function write(command: fc.Arbitrary<Op>): fc.Arbitrary<Write> {
  return fc.record({
    ops: fc.array(command, { minLength: 1, maxLength: 3 }).map((ops) => {
      const alone = ops.find((op) => op.alone);
      return alone ? [alone] : ops;
    }),
    cuts: fc.oneof(fc.constant([] as number[]), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 })),
  });
}

export function sequenceOf(protocol: Protocol): fc.Arbitrary<Sequence> {
  const command = protocol === 'text' ? textCommand() : binaryCommand();
  return fc.array(write(command), { minLength: 1, maxLength: 10 }).map((writes) => ({ protocol, writes }));
}

/** Fuzzes each protocol in turn for its share of the time limit. */
export async function fuzz(pair: Pair, options: FuzzOptions): Promise<FuzzResult[]> {
  const protocols = options.protocols ?? ['text', 'binary'];
  const results: FuzzResult[] = [];
  let run = 0;
  for (const protocol of protocols) {
    let sequences = 0;
    let lastFailure: string | undefined;
    const details = await fc.check(
      fc.asyncProperty(sequenceOf(protocol), async (sequence) => {
        sequences++;
        run++;
        // A fresh key prefix per run: a shrunk sequence must not see the items of earlier ones.
        const result = await compare(pair, sequence, `z${options.seed}_${run}_`);
        if (!result.same) lastFailure = describe(sequence, result);
        return result.same;
      }),
      {
        seed: options.seed,
        numRuns: options.maxRuns ?? 1_000_000,
        interruptAfterTimeLimit: options.timeLimitMs / protocols.length,
        markInterruptAsFailure: false,
      },
    );
    const result: FuzzResult = { protocol, sequences };
    if (details.failed) result.failure = lastFailure ?? String(details.errorInstance);
    options.log?.(`${protocol}: ${sequences} sequences${result.failure ? `, a difference:\n${result.failure}` : ', no difference'}`);
    results.push(result);
  }
  return results;
}
