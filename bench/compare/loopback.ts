// What one round trip between two processes costs on this machine. Raw SQL makes one per
// request (client <-> database), memgate two (client <-> gateway <-> database), so its latency
// over raw SQL's rises and falls with this figure. On a VM it varies a lot with where the two
// processes are scheduled.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { percentile } from './stats.js';

const ECHO_SERVER = `
const server = require('node:net').createServer((c) => { c.setNoDelay(true); c.on('data', (d) => c.write(d)); });
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * Median round trip, in ms, of one byte between this process and a child node echoing over
 * loopback TCP. Rejects if the whole measurement takes longer than timeoutMs.
 */
export async function loopbackRoundTripMs(roundTrips = 2000, timeoutMs = 10_000): Promise<number> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['pipe', 'pipe', 'ignore'] });
  let socket: net.Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const measure = async (): Promise<number> => {
      const port = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`echo process exited with code ${code}`)));
        child.stdout!.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
      });
      const connected = net.connect({ port, host: '127.0.0.1', noDelay: true });
      socket = connected;
      await new Promise<void>((resolve, reject) => connected.once('connect', resolve).once('error', reject));
      // A reply that never comes (the echo process died) fails the round trip it is waiting for.
      let replied: (() => void) | null = null;
      let failed: Error | null = null;
      connected.on('data', () => replied?.());
      connected.on('error', (error) => { failed = error; replied?.(); });
      connected.on('close', () => { failed ??= new Error('echo connection closed'); replied?.(); });
      const times = new Float64Array(roundTrips);
      const byte = Buffer.from('x');
      for (let i = 0; i < roundTrips; i++) {
        const sent = performance.now();
        await new Promise<void>((resolve) => {
          replied = resolve;
          connected.write(byte);
        });
        if (failed) throw failed;
        times[i] = performance.now() - sent;
      }
      return percentile(times.sort(), 0.5);
    };
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`loopback round trips took over ${timeoutMs} ms`)), timeoutMs);
    });
    return await Promise.race([measure(), deadline]);
  } finally {
    clearTimeout(timer);
    socket?.destroy();
    child.stdin!.end();
    child.kill();
  }
}

/**
 * How long an idle vCPU of a KVM guest polls before it halts (cpuidle-haltpoll's
 * guest_halt_poll_ns), or null where the module is absent (not a KVM guest, or another idle
 * driver). At 0 every wake-up of a process on an idle vCPU goes through the hypervisor: on the
 * development VM that made a loopback round trip across vCPUs 85–117 µs instead of 14–16 µs,
 * and memgate makes one more such round trip per request than raw SQL.
 */
export async function guestHaltPollNs(
  file = '/sys/module/haltpoll/parameters/guest_halt_poll_ns',
): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null || !/^\d+\s*$/.test(text)) return null;
  return Number(text.trim());
}
