/** What a benchmark starts is released when it ends, whichever way, and its signal handlers go with it. */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { createLogger, transports } from 'winston';
import { withBenchLifecycle } from '../../../bench/lifecycle.js';

describe('bench lifecycle', function () {
  const logger = createLogger({ level: 'error', transports: [new transports.Console({ silent: true })] });

  it('releases what the run owns in reverse order when it returns, and when it throws', async function () {
    const released: string[] = [];
    const lines: string[] = [];
    const value = await withBenchLifecycle({ logger, log: (line) => lines.push(line) }, async ({ own }) => {
      await own('a', 'A', (r) => { released.push(r); });
      const b = await own('b', 'B', async (r) => { released.push(r); });
      expect(b).to.equal('B');
      return 42;
    });
    expect(value).to.equal(42);
    expect(released).to.deep.equal(['B', 'A']);

    released.length = 0;
    const failing = withBenchLifecycle({ logger, log: (line) => lines.push(line) }, async ({ own }) => {
      await own('a', 'A', (r) => { released.push(r); });
      await own('b', 'B', () => { throw new Error('cannot stop B'); });
      throw new Error('the run failed');
    });
    await failing.then(() => expect.fail('should have thrown'), (error: Error) => expect(error.message).to.equal('the run failed'));
    expect(released).to.deep.equal(['A']);
    expect(lines).to.deep.equal(['cleanup: cannot stop B']);
  });

  it('leaves no signal handler behind', async function () {
    const before = process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
    await withBenchLifecycle({ logger, log: () => undefined }, async ({ interrupted }) => {
      expect(interrupted).to.equal(false);
      expect(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')).to.equal(before + 2);
    });
    expect(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')).to.equal(before);
  });
});

describe('bench lifecycle on a signal', function () {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} releases everything the run owns, then exits 130`, async function () {
      const lifecycle = pathToFileURL(fileURLToPath(new URL('../../../bench/lifecycle.js', import.meta.url))).href;
      const script = `
        import { createLogger, transports } from 'winston';
        import { withBenchLifecycle } from ${JSON.stringify(lifecycle)};
        const logger = createLogger({ transports: [new transports.Console({ silent: true })] });
        await withBenchLifecycle({ logger, log: (line) => process.stdout.write(line + '\\n') }, async ({ own }) => {
          await own('a', 'A', () => { process.stdout.write('released A\\n'); });
          await own('b', 'B', async () => { await new Promise((r) => setTimeout(r, 50)); process.stdout.write('released B\\n'); });
          process.stdout.write('ready\\n');
          await new Promise(() => setInterval(() => undefined, 1000));
        });`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let output = '';
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready\n')) resolve();
      }));
      child.kill(signal);
      expect(await exited).to.equal(130);
      expect(output).to.equal('ready\ninterrupted: stopping everything the benchmark started …\nreleased B\nreleased A\n');
    });
  }
});
