import { expect } from 'chai';
import type { ParseEvent } from '../../src/protocol/parse-events.js';
import { TextParser } from '../../src/protocol/text/text-parser.js';
import { feedings } from './chunking.js';

export const ITEM_SIZE_MAX = 1024 * 1024;

/** Events as plain data: Buffers become latin1 strings, bigints `<n>n`, undefined fields vanish. */
export function plain(events: ParseEvent[]): unknown[] {
  return JSON.parse(JSON.stringify(events, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data).toString('latin1');
    }
    return v;
  })) as unknown[];
}

export function parseChunks(chunks: Buffer[], itemSizeMax = ITEM_SIZE_MAX): unknown[] {
  const parser = new TextParser({ itemSizeMax });
  const events: ParseEvent[] = [];
  for (const chunk of chunks) parser.feed(chunk, (e) => events.push(e));
  return plain(events);
}

/** Parses input whole, byte by byte and split at every offset; all must agree with expected. */
export function check(input: string | Buffer, expected: unknown[], itemSizeMax = ITEM_SIZE_MAX): void {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  for (const { name, chunks } of feedings(bytes)) {
    expect(parseChunks(chunks, itemSizeMax), name).to.deep.equal(expected);
  }
}

export const reply = (line: string) => ({ type: 'reply', line });
export const req = (request: Record<string, unknown>, meta?: Record<string, unknown>) =>
  (meta ? { type: 'request', request, meta } : { type: 'request', request });
