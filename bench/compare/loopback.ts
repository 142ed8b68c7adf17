// What one hop between two processes costs on this machine: memgate adds two of them to every
// request (client -> gateway -> database and back), so its latency over raw SQL's rises and
// falls with this figure. On a VM it varies a lot with where the two processes are scheduled.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { percentile } from './stats.js';

const ECHO_SERVER = `
const server = require('node:net').createServer((c) => { c.setNoDelay(true); c.on('data', (d) => c.write(d)); });
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** Median round trip, in ms, of one byte between this process and a child node echoing over loopback TCP. */
export async function loopbackRoundTripMs(roundTrips = 2000): Promise<number> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['pipe', 'pipe', 'ignore'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`echo process exited with code ${code}`)));
      child.stdout!.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
    });
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const times = new Float64Array(roundTrips);
    const byte = Buffer.from('x');
    for (let i = 0; i < roundTrips; i++) {
      const sent = performance.now();
      await new Promise<void>((resolve) => {
        socket.once('data', () => resolve());
        socket.write(byte);
      });
      times[i] = performance.now() - sent;
    }
    socket.destroy();
    return percentile(times.sort(), 0.5);
  } finally {
    child.stdin!.end();
    child.kill();
  }
}
