/**
 * Properties every wire parser keeps for any input (fast-check): it never throws, it holds no
 * more than its documented bound between feeds, it emits the same events however the bytes
 * are cut into chunks, and after garbage it resyncs or hangs up where memcached 1.6.18 does.
 * `npm test` runs a bounded number of cases; `npm run fuzz` sets MEMGATE_PROPERTY_RUNS higher.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { BinaryParser } from '../../../src/protocol/binary/binary-parser.js';
import { MAX_LINE_WITHOUT_NEWLINE } from '../../../src/protocol/limits.js';
import type { ParseEvent } from '../../../src/protocol/parse-events.js';
import { TextParser } from '../../../src/protocol/text/text-parser.js';
import { plain } from '../../helpers/text-parse.js';
import { binaryInput, cutPoints, garbageLine, splitAt, textInput } from '../../fuzz/wire-arbitraries.js';

const RUNS = Number(process.env['MEMGATE_PROPERTY_RUNS'] ?? 150);
const SEED = process.env['MEMGATE_PROPERTY_SEED'] === undefined ? undefined : Number(process.env['MEMGATE_PROPERTY_SEED']);
const params = { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) };
/** Small, so that random inputs reach the value bound. */
const ITEM_SIZE_MAX = 1024;

interface Parser {
  readonly buffered: number;
  feed(chunk: Buffer, emit: (event: ParseEvent | { type: string }) => void): void;
}

const parsers: Record<'text' | 'binary', () => Parser> = {
  text: () => new TextParser({ itemSizeMax: ITEM_SIZE_MAX }),
  binary: () => new BinaryParser({ itemSizeMax: ITEM_SIZE_MAX }) as unknown as Parser,
};

interface Fed {
  events: unknown[];
  /** bytes held after each chunk, with the bytes fed so far */
  holdings: Array<{ buffered: number; fed: number; closed: boolean }>;
}

function feedAll(make: () => Parser, chunks: Buffer[]): Fed {
  const parser = make();
  const events: Array<ParseEvent | { type: string }> = [];
  const holdings: Fed['holdings'] = [];
  let fed = 0;
  for (const chunk of chunks) {
    parser.feed(chunk, (e) => events.push(e));
    fed += chunk.length;
    holdings.push({ buffered: parser.buffered, fed, closed: events.some((e) => e.type === 'close') });
  }
  return { events: plain(events as ParseEvent[]), holdings };
}

/** A held text line may outgrow MAX_LINE_WITHOUT_NEWLINE only as a multi-get (mayGrow). */
function textHoldingAllowed(input: Buffer, h: Fed['holdings'][number]): boolean {
  if (h.closed || h.buffered <= Math.max(MAX_LINE_WITHOUT_NEWLINE, ITEM_SIZE_MAX + 2)) return true;
  const held = input.subarray(h.fed - h.buffered, h.fed).toString('latin1').replace(/^ +/, '');
  return held.startsWith('get ') || held.startsWith('gets ');
}

/**
 * memcached hangs up on more than 2048 bytes without a newline only when its read so far has
 * no newline: a line longer than that is answered when it arrives whole and closes the
 * connection when it arrives cut. The parser does the same; the events then agree up to the
 * close.
 */
function cutOffLongLine(input: Buffer, whole: unknown[], cut: unknown[]): boolean {
  const longLine = input.toString('latin1').split('\n').some((line) => line.length > MAX_LINE_WITHOUT_NEWLINE);
  const last = cut[cut.length - 1] as { type?: string } | undefined;
  if (!longLine || last?.type !== 'close') return false;
  expect(cut.slice(0, -1)).to.deep.equal(whole.slice(0, cut.length - 1));
  return true;
}

/** Header, extras and key, or a value within the item size. */
const BINARY_BOUND = 24 + 255 + 65535;

for (const protocol of ['text', 'binary'] as const) {
  const input = protocol === 'text' ? textInput() : binaryInput();
  describe(`${protocol} parser properties (${RUNS} runs each)`, () => {
    it('never throws, and emits the same events whole as cut at any points', () => {
      fc.assert(
        fc.property(input.chain((bytes) => fc.tuple(fc.constant(bytes), cutPoints(bytes.length))), ([bytes, cuts]) => {
          const whole = feedAll(parsers[protocol], [bytes]);
          const cut = feedAll(parsers[protocol], splitAt(bytes, cuts));
          if (protocol === 'text' && cutOffLongLine(bytes, whole.events, cut.events)) return;
          expect(cut.events).to.deep.equal(whole.events);
        }),
        params,
      );
    });

    it('holds no more than its bound between feeds', () => {
      fc.assert(
        fc.property(input.chain((bytes) => fc.tuple(fc.constant(bytes), cutPoints(bytes.length))), ([bytes, cuts]) => {
          const { holdings } = feedAll(parsers[protocol], splitAt(bytes, cuts));
          for (const h of holdings) {
            if (protocol === 'text') expect(textHoldingAllowed(bytes, h), `holds ${h.buffered} of ${h.fed} bytes`).to.equal(true);
            else expect(h.buffered).to.be.at.most(BINARY_BOUND);
          }
        }),
        params,
      );
    });
  });
}

describe('parsers after garbage, as memcached 1.6.18', () => {
  it('text: a garbage line gets one error reply and the next line is read as a command', () => {
    fc.assert(
      fc.property(garbageLine(), fc.integer({ min: 1, max: 40 }), (line, cut) => {
        const bytes = Buffer.concat([line, Buffer.from('\r\nversion\r\n')]);
        const { events } = feedAll(parsers.text, splitAt(bytes, [cut]));
        expect(events).to.have.length(2);
        expect((events[0] as { type: string; line: string }).line).to.match(/^(ERROR|CLIENT_ERROR .+)$/);
        expect(events[1]).to.deep.equal({ type: 'request', request: { kind: 'version' } });
      }),
      params,
    );
  });

  it('text: a line over 2048 bytes without a newline that is not a get closes the connection', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: MAX_LINE_WITHOUT_NEWLINE + 1, maxLength: 4096 }).map((a) => Buffer.from(a.map((b) => (b === 0x0a ? 0x41 : b)))),
        (bytes) => {
          fc.pre(!/^ *(get |gets )/.test(bytes.toString('latin1')));
          const { events } = feedAll(parsers.text, [bytes]);
          expect(events).to.deep.equal([{ type: 'close' }]);
        },
      ),
      params,
    );
  });

  it('binary: a packet that does not start with the request magic closes the connection', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 24, maxLength: 200 }), (a) => {
        const bytes = Buffer.from(a);
        fc.pre(bytes[0] !== 0x80);
        const { events } = feedAll(parsers.binary, [bytes]);
        expect(events).to.deep.equal([{ type: 'close' }]);
      }),
      params,
    );
  });
});
