import { expect } from 'chai';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import type { RequestRunner } from '../../../src/model/request-runner.js';
import type { Request } from '../../../src/model/request.js';
import type { Response } from '../../../src/model/response.js';
import { ClientConnection } from '../../../src/net/connection.js';
import { ServerStats } from '../../../src/stats/server-stats.js';
import { captureLog } from '../../helpers/database.js';
import { waitFor } from '../../helpers/wait.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A hit whose value is the key itself (or `size` bytes of it), for text gets. */
const hit = (request: Request, size?: number): Response => {
  const key = request.kind === 'get' ? request.keys[0]! : Buffer.from('?');
  const value = size === undefined ? key : Buffer.alloc(size, key[0]);
  return { kind: 'hits', items: [{ key, value, flags: 0, cas: 0n }], withCas: false };
};
const keyOf = (request: Request) => (request.kind === 'get' ? request.keys.map((k) => k.toString()).join(',') : request.kind);

interface ControlledRunner extends RequestRunner {
  /** the requests of each run() call, as keys */
  runs: string[][];
  /** times close() was called */
  closes: number;
}

/** A runner the test controls: runs of at most `maxRun` queued requests, answered by `answer`. */
function controlledRunner(answer: (request: Request) => Promise<Response> | Response, maxRun = 1): ControlledRunner {
  const runs: string[][] = [];
  return {
    runs,
    closes: 0,
    close() {
      this.closes++;
    },
    runLength(peek) {
      let length = 1;
      while (length < maxRun && peek(length) !== undefined) length++;
      return length;
    },
    async run(requests) {
      runs.push(requests.map(keyOf));
      const responses: Response[] = [];
      for (const request of requests) responses.push(await answer(request));
      return responses;
    },
  };
}

describe('ClientConnection (real sockets, controlled runner)', () => {
  let server: Server;
  let clients: Socket[] = [];
  let serverSockets: Socket[] = [];
  let log: ReturnType<typeof captureLog>;

  async function connect(runner: RequestRunner, maxQueuedRequests = 1000): Promise<Socket> {
    log = captureLog();
    server = net.createServer({ allowHalfOpen: true }, (socket) => {
      serverSockets.push(socket);
      new ClientConnection(socket, { openRunner: () => runner, stats: new ServerStats() }, { itemSizeMax: 1024 * 1024, maxQueuedRequests }, log.logger);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    clients.push(client);
    await new Promise((resolve) => client.once('connect', resolve));
    return client;
  }

  /** Reads until `expected` bytes arrived (or the peer closed); returns them as latin1. */
  function read(client: Socket, expected: number, timeoutMs = 5000): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let length = 0;
      const done = () => {
        clearTimeout(timer);
        client.off('data', onData);
        client.off('close', done);
        resolve(Buffer.concat(chunks).toString('latin1'));
      };
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= expected) done();
      };
      const timer = setTimeout(() => reject(new Error(`timed out after ${length} of ${expected} bytes`)), timeoutMs);
      client.on('data', onData);
      client.once('close', done);
    });
  }

  afterEach(async () => {
    for (const socket of [...clients, ...serverSockets]) socket.destroy();
    clients = [];
    serverSockets = [];
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers pipelined requests in arrival order, however long each takes', async () => {
    const slowness: Record<string, number> = { a: 60, b: 0, c: 20 };
    const runner = controlledRunner(async (request) => {
      await delay(slowness[keyOf(request)] ?? 0);
      return hit(request);
    });
    const client = await connect(runner);
    client.write('get a\r\nget b\r\nget c\r\n');
    const expected = 'VALUE a 0 1\r\na\r\nEND\r\nVALUE b 0 1\r\nb\r\nEND\r\nVALUE c 0 1\r\nc\r\nEND\r\n';
    expect(await read(client, expected.length)).to.equal(expected);
  });

  it('hands the runner the run it asks for, and stops a run at anything but a request', async () => {
    const runner = controlledRunner(hit, 3);
    const client = await connect(runner);
    // The unknown command is answered by the parser: it ends a run.
    client.write('get a\r\nget b\r\nbogus\r\nget c\r\nget d\r\nget e\r\nget f\r\nget g\r\n');
    const answer = (k: string) => `VALUE ${k} 0 1\r\n${k}\r\nEND\r\n`;
    const expected = `${answer('a')}${answer('b')}ERROR\r\n${['c', 'd', 'e', 'f', 'g'].map(answer).join('')}`;
    expect(await read(client, expected.length)).to.equal(expected);
    expect(runner.runs).to.deep.equal([['a', 'b'], ['c', 'd', 'e'], ['f', 'g']]);
  });

  it('stops reading and running while the client does not read its replies, and resumes when it does', async () => {
    const valueSize = 512 * 1024;
    const requests = 40;
    const runner = controlledRunner((request) => hit(request, valueSize));
    const client = await connect(runner, 4);
    client.pause();
    const keys = Array.from({ length: requests }, (_, i) => `k${i}`);
    client.write(keys.map((k) => `get ${k}\r\n`).join(''));
    await delay(500);
    // Kernel buffers hold a few replies; without backpressure all 40 (20 MiB) would be produced.
    expect(runner.runs.length).to.be.below(requests / 2);
    expect(serverSockets[0]!.isPaused(), 'server socket paused').to.equal(true);
    const replyLength = (k: string) => `VALUE ${k} 0 ${valueSize}\r\n`.length + valueSize + '\r\nEND\r\n'.length;
    const total = keys.reduce((sum, k) => sum + replyLength(k), 0);
    const reading = read(client, total, 20000);
    client.resume();
    expect((await reading).length).to.equal(total);
    expect(runner.runs.flat()).to.deep.equal(keys);
  });

  it('closes its runner once when the client goes with a request in flight', async () => {
    let finish = () => undefined as void;
    const runner = controlledRunner(async (request) => {
      await new Promise<void>((resolve) => { finish = resolve; });
      return hit(request);
    });
    const client = await connect(runner);
    client.write('get a\r\n');
    await waitFor('the request to run', () => runner.runs.length === 1, 2000, 5);
    client.destroy();
    await delay(20);
    finish();
    await waitFor('the runner to be closed', () => runner.closes > 0, 2000, 5);
    await delay(50);
    expect(runner.closes).to.equal(1);
  });

  it('answers SERVER_ERROR when the runner throws, and goes on serving', async () => {
    const runner = controlledRunner((request) => {
      if (keyOf(request) === 'boom') throw new Error('runner bug');
      return hit(request);
    });
    const client = await connect(runner);
    client.write('get boom\r\nget a\r\n');
    const expected = 'SERVER_ERROR internal error\r\nVALUE a 0 1\r\na\r\nEND\r\n';
    expect(await read(client, expected.length)).to.equal(expected);
    expect(log.text()).to.include('runner bug');
  });

  it('closes after quit once the replies before it are out, and runs nothing after it', async () => {
    const runner = controlledRunner(async (request) => {
      if (request.kind === 'quit') return { kind: 'quit' };
      await delay(30);
      return hit(request);
    });
    const client = await connect(runner);
    const closed = new Promise((resolve) => client.once('close', resolve));
    client.write('get a\r\nquit\r\nget b\r\n');
    expect(await read(client, Infinity)).to.equal('VALUE a 0 1\r\na\r\nEND\r\n');
    await closed;
    expect(runner.runs).to.deep.equal([['a'], ['quit']]);
  });
});
