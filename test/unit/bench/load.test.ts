/**
 * The load generator against a fake memcached on loopback: which requests it sends, that it
 * keeps one in flight per connection at depth 1, and that a signal ends an open-ended load.
 */
import net from 'node:net';
import { expect } from 'chai';
import { runLoadHere, type LoadSpec } from '../../../bench/compare/load.js';

interface FakeServer {
  port: number;
  /** Per connection, in order: 'get <key>' or 'set <key> <bytes>'. */
  requests: string[][];
  /** Most requests one connection had unanswered at once. */
  maxInFlight: number;
  close(): Promise<void>;
}

/** Answers text get with a miss and set with STORED, after delayMs. */
async function fakeMemcached(delayMs = 0): Promise<FakeServer> {
  const requests: string[][] = [];
  const sockets = new Set<net.Socket>();
  const fake: FakeServer = { port: 0, requests, maxInFlight: 0, close: () => Promise.resolve() };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const mine: string[] = [];
    requests.push(mine);
    let pending = Buffer.alloc(0);
    let inFlight = 0;
    const answer = (reply: string) => {
      inFlight++;
      fake.maxInFlight = Math.max(fake.maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        if (!socket.destroyed) socket.write(reply);
      }, delayMs);
    };
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const nl = pending.indexOf('\r\n');
        if (nl < 0) return;
        const line = pending.toString('latin1', 0, nl);
        const [verb, key, , , bytes] = line.split(' ');
        if (verb === 'set') {
          const end = nl + 2 + Number(bytes) + 2;
          if (pending.length < end) return;
          pending = pending.subarray(end);
          mine.push(`set ${key} ${bytes}`);
          answer('STORED\r\n');
        } else {
          pending = pending.subarray(nl + 2);
          mine.push(`get ${key}`);
          answer('END\r\n');
        }
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.port = (server.address() as net.AddressInfo).port;
  fake.close = () => new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  });
  return fake;
}

describe('bench load generator', function () {
  let fake: FakeServer;
  afterEach(async function () {
    await fake?.close();
  });

  const spec = (port: number, overrides: Partial<LoadSpec>): LoadSpec => ({
    target: { kind: 'memcache', protocol: 'text', port }, workload: 'alternate', keyOrder: 'stride', connections: 2, depth: 1,
    seconds: 0.3, warmupSeconds: 0, keyCount: 10, keyPrefix: 'bench:', valueSize: 1000, ...overrides,
  });

  it('alternate with stride: get, set, get … on each connection, connection i walking the keys from i × 7919', async function () {
    fake = await fakeMemcached();
    const result = await runLoadHere(spec(fake.port, {}));
    expect(fake.requests).to.have.length(2);
    const starts = fake.requests.map((r) => r[0]).sort();
    expect(starts).to.deep.equal(['get bench:0', 'get bench:9']); // 0 × 7919 mod 10, 1 × 7919 mod 10
    for (const requests of fake.requests) {
      expect(requests.length).to.be.greaterThan(10);
      const first = Number(requests[0]!.split(':')[1]);
      for (const [n, request] of requests.entries()) {
        const key = `bench:${(first + n) % 10}`;
        expect(request).to.equal(n % 2 === 0 ? `get ${key}` : `set ${key} 1000`);
      }
    }
    expect(fake.maxInFlight).to.equal(1);
    expect(result.errors).to.equal(0);
    expect(result.hits).to.equal(0);
    expect(result.misses + result.stored).to.equal(result.ops);
    expect(result.measuredSeconds).to.be.closeTo(0.3, 1e-6);
    expect(result.opsPerSecond).to.be.closeTo(result.ops / 0.3, 1e-6);
  });

  it('set with stride sets only; latency is the time from the write to the reply', async function () {
    fake = await fakeMemcached(20);
    const result = await runLoadHere(spec(fake.port, { workload: 'set', connections: 1 }));
    expect(fake.requests[0]!.every((r) => r.startsWith('set '))).to.equal(true);
    expect(fake.requests[0]!.slice(0, 3)).to.deep.equal(['set bench:0 1000', 'set bench:1 1000', 'set bench:2 1000']);
    expect(result.stored).to.equal(result.ops);
    expect(result.p50Ms).to.be.at.least(19);
  });

  it('runs an open-ended load until its signal aborts, measuring up to that moment', async function () {
    fake = await fakeMemcached();
    const stop = new AbortController();
    const running = runLoadHere(spec(fake.port, { seconds: Number.POSITIVE_INFINITY }), { signal: stop.signal });
    const started = performance.now();
    setTimeout(() => stop.abort(), 200);
    const result = await running;
    expect(performance.now() - started).to.be.within(150, 2000);
    expect(result.measuredSeconds).to.be.within(0.15, 1);
    expect(result.ops).to.be.greaterThan(0);
    expect(result.opsPerSecond).to.be.closeTo(result.ops / result.measuredSeconds, 1e-6);
  });
});
