/**
 * One memcached 1.6.18 and one memgate side by side, and the replay of a sequence of writes on
 * each: what the fuzzer and the regression tests of the differences it found compare. A
 * sequence is one connection's writes in one protocol; a write holds one or more commands
 * (rendered per server, see wire-arbitraries.ts) and may be cut into small TCP writes. After each write a sentinel (text `version`, binary Noop) marks the end of its reply,
 * so replies are compared write by write; CAS values, versions and clock readings are masked
 * as in the differential corpus tests.
 */
import { binaryExchange, renderResponses, splitPackets } from '../helpers/binary-packets.js';
import { startGateway, type StartGatewayOptions } from '../helpers/gateway.js';
import { startMemcached } from '../helpers/memcached-server.js';
import { RawConnection, type ExchangeResult } from '../helpers/raw-connection.js';
import { LAST_META_CAS, maskTextReply, render } from '../helpers/reply-masking.js';
import type { Op, RenderContext } from './wire-arbitraries.js';

export interface Target {
  port: number;
  stop(): Promise<void>;
}

export interface Pair {
  memcached: Target;
  memgate: Target;
  stop(): Promise<void>;
}

export async function startPair(gateway: StartGatewayOptions = {}): Promise<Pair> {
  const [memcached, memgate] = await Promise.all([startMemcached(), startGateway(gateway)]);
  return { memcached, memgate, stop: async () => void (await Promise.all([memcached.stop(), memgate.stop()])) };
}

export type Protocol = 'text' | 'binary';

export interface Write {
  /** commands sent together in one write (pipelined) */
  ops: Op[];
  /** where the write is cut into separate TCP writes, as fractions of its length (0..1) */
  cuts?: number[];
}

export interface Sequence {
  protocol: Protocol;
  writes: Write[];
}

/** What one server answered to each write (masked), with what it was sent. */
export interface Transcript {
  sent: Buffer[];
  replies: string[];
}

/** Both servers answer a sentinel in milliseconds; a write that leaves them waiting for a value costs this. */
const STEP_TIMEOUT_MS = 1500;

/** A write made of fixed bytes, for hand-written sequences. */
export function fixed(bytes: Buffer | string): Write {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  return { ops: [{ label: 'fixed', render: () => b }] };
}

function pieces(bytes: Buffer, cuts: readonly number[] = []): Buffer[] {
  const offsets = [...new Set(cuts.map((f) => Math.floor(f * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of offsets) {
    if (cut <= from || cut >= bytes.length) continue;
    out.push(bytes.subarray(from, cut));
    from = cut;
  }
  out.push(bytes.subarray(from));
  return out;
}

/**
 * A `t` after a negative or past exptime wraps, counted from memcached's start there and from
 * the epoch in memgate (docs/differences.md, meta protocol): only its wrapping is compared.
 */
function maskWrappedTtl(reply: string): string {
  return reply.replace(/ t~?(\d+)/g, (whole, n: string) => (Number(n) >= 2 ** 31 ? ' t<wrapped>' : whole));
}

function renderReply(protocol: Protocol, res: ExchangeResult): string {
  const body = protocol === 'text' ? maskWrappedTtl(render(maskTextReply(res.data).masked)) : renderResponses(res.data).join(' | ');
  const end = res.closed ? CLOSED : res.timedOut ? WAITING : '';
  return body + end;
}

/** CAS values a server returned, by key, so that a later command can send a real one. */
function learnCas(protocol: Protocol, reply: Buffer, keys: string[], known: Map<string, bigint>): void {
  if (protocol === 'text') {
    for (const [key, cas] of maskTextReply(reply).cas) if (key !== LAST_META_CAS) known.set(key, BigInt(cas));
    return;
  }
  // Binary replies name their key only for GETK: the last CAS goes to every key of the write.
  const cas = splitPackets(reply).packets.map((p) => p.cas).filter((c) => c !== 0n).pop();
  if (cas !== undefined) for (const key of keys) known.set(key, cas);
}

/** Replays a sequence on one connection to `target`; stops at the first write after a hang-up. */
export async function replay(target: Target, sequence: Sequence, prefix = 'f'): Promise<Transcript> {
  const conn = await RawConnection.open(target.port);
  const known = new Map<string, bigint>();
  const ctx: RenderContext = { prefix, cas: (i) => known.get(`${prefix}${i}`) };
  const transcript: Transcript = { sent: [], replies: [] };
  try {
    for (const write of sequence.writes) {
      const bytes = Buffer.concat(write.ops.map((op) => op.render(ctx)));
      transcript.sent.push(bytes);
      const parts = pieces(bytes, write.cuts);
      // All but the last piece go out as separate writes; the sentinel exchange sends the last.
      for (const part of parts.slice(0, -1)) {
        await conn.send(part);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const last = parts[parts.length - 1]!;
      const res = sequence.protocol === 'text'
        ? await conn.exchange(last, { timeoutMs: STEP_TIMEOUT_MS })
        : await binaryExchange(conn, last, { timeoutMs: STEP_TIMEOUT_MS });
      transcript.replies.push(renderReply(sequence.protocol, res));
      learnCas(sequence.protocol, res.data, [...Array(8).keys()].map((i) => `${prefix}${i}`), known);
      if (res.closed || res.timedOut) break;
    }
  } finally {
    await conn.close();
  }
  return transcript;
}

export interface Comparison {
  same: boolean;
  memcached: Transcript;
  memgate: Transcript;
}

export async function compare(pair: Pair, sequence: Sequence, prefix = 'f'): Promise<Comparison> {
  const [memcached, memgate] = await Promise.all([replay(pair.memcached, sequence, prefix), replay(pair.memgate, sequence, prefix)]);
  return { same: sameUpToHangUp(memcached.replies, memgate.replies), memcached, memgate };
}

const CLOSED = ' <closed>';
const WAITING = ' <no sentinel>';

/**
 * Equal replies, except where memcached holds back or drops replies that memgate sends
 * (docs/differences.md): when it hangs up it drops those not sent yet, and while it waits for
 * the rest of a value it sends none of those before it. For the last write, which both ended
 * the same way, memcached's reply need only be the start of memgate's.
 */
function sameUpToHangUp(memcached: string[], memgate: string[]): boolean {
  if (memcached.length !== memgate.length) return false;
  return memcached.every((a, i) => {
    const b = memgate[i]!;
    if (a === b) return true;
    if (i !== memcached.length - 1) return false;
    const ending = [CLOSED, WAITING].find((end) => a.endsWith(end) && b.endsWith(end));
    return ending !== undefined && b.startsWith(a.slice(0, -ending.length));
  });
}

/** A readable reproducer: each write as memcached got it, and both replies where they differ. */
export function describe(sequence: Sequence, result: Comparison): string {
  const lines = [`${sequence.protocol} sequence of ${sequence.writes.length} writes:`];
  sequence.writes.forEach((write, i) => {
    const bytes = result.memcached.sent[i] ?? result.memgate.sent[i];
    const sent = bytes === undefined ? '<not sent>' : sequence.protocol === 'text' ? render(bytes) : bytes.toString('hex');
    lines.push(`  > ${sent}${write.cuts?.length ? `  (cut at ${write.cuts.map((c) => c.toFixed(2)).join(',')})` : ''}`);
    const a = result.memcached.replies[i];
    const b = result.memgate.replies[i];
    if (a === b) lines.push(`    = ${a ?? '<not sent>'}`);
    else lines.push(`    memcached: ${a ?? '<not sent>'}`, `    memgate:   ${b ?? '<not sent>'}`);
  });
  return lines.join('\n');
}
