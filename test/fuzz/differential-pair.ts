/**
 * One memcached 1.6.18 and one memgate side by side, and the replay of a sequence of writes on
 * each: what the fuzzer and the regression tests of the differences it found compare. A
 * sequence is one connection's writes in one protocol; each write may be cut into small TCP
 * writes. After each write a sentinel (text `version`, binary Noop) marks the end of its reply,
 * so replies are compared write by write; CAS values, versions and clock readings are masked
 * as in the differential corpus tests.
 */
import { binaryExchange, renderResponses } from '../helpers/binary-packets.js';
import { startGateway, type StartGatewayOptions } from '../helpers/gateway.js';
import { startMemcached } from '../helpers/memcached-server.js';
import { RawConnection, type ExchangeResult } from '../helpers/raw-connection.js';
import { maskTextReply, render } from '../helpers/reply-masking.js';

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
  bytes: Buffer;
  /** cut points (offsets into bytes, ascending): each piece is its own TCP write */
  cuts?: number[];
}

export interface Sequence {
  protocol: Protocol;
  writes: Write[];
}

/** What one server answered to each write: masked reply, or how the connection ended. */
export type Transcript = string[];

const STEP_TIMEOUT_MS = 3000;

function pieces(write: Write): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of write.cuts ?? []) {
    if (cut <= from || cut >= write.bytes.length) continue;
    out.push(write.bytes.subarray(from, cut));
    from = cut;
  }
  out.push(write.bytes.subarray(from));
  return out;
}

function renderReply(protocol: Protocol, res: ExchangeResult): string {
  const body = protocol === 'text' ? render(maskTextReply(res.data).masked) : renderResponses(res.data).join(' | ');
  const end = res.closed ? ' <closed>' : res.timedOut ? ' <no sentinel>' : '';
  return body + end;
}

/** Replays a sequence on one connection to `target`; stops at the first write after a hang-up. */
export async function replay(target: Target, sequence: Sequence): Promise<Transcript> {
  const conn = await RawConnection.open(target.port);
  const transcript: Transcript = [];
  try {
    for (const write of sequence.writes) {
      const parts = pieces(write);
      // All but the last piece go out as separate writes; the sentinel exchange sends the last.
      for (const part of parts.slice(0, -1)) {
        await conn.send(part);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const last = parts[parts.length - 1]!;
      const res = sequence.protocol === 'text'
        ? await conn.exchange(last, { timeoutMs: STEP_TIMEOUT_MS })
        : await binaryExchange(conn, last, { timeoutMs: STEP_TIMEOUT_MS });
      transcript.push(renderReply(sequence.protocol, res));
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

export async function compare(pair: Pair, sequence: Sequence): Promise<Comparison> {
  const [memcached, memgate] = await Promise.all([replay(pair.memcached, sequence), replay(pair.memgate, sequence)]);
  return { same: JSON.stringify(memcached) === JSON.stringify(memgate), memcached, memgate };
}

/** A readable reproducer: each write, and each server's reply where they differ. */
export function describe(sequence: Sequence, result: Comparison): string {
  const lines = [`${sequence.protocol} sequence of ${sequence.writes.length} writes:`];
  sequence.writes.forEach((write, i) => {
    const sent = sequence.protocol === 'text' ? render(write.bytes) : write.bytes.toString('hex');
    lines.push(`  > ${sent}${write.cuts?.length ? `  (cut at ${write.cuts.join(',')})` : ''}`);
    const a = result.memcached[i];
    const b = result.memgate[i];
    if (a === b) lines.push(`    = ${a ?? '<not sent>'}`);
    else lines.push(`    memcached: ${a ?? '<not sent>'}`, `    memgate:   ${b ?? '<not sent>'}`);
  });
  return lines.join('\n');
}
