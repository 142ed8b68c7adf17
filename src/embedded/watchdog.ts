import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';

export interface Watchdog {
  dispose(): void;
}

/**
 * A process 'exit' handler does not run when node is killed by SIGKILL or by
 * an unhandled signal, so a tiny shell holds the read end of a pipe whose
 * write end only we own: when we die for any reason the read sees EOF and
 * the shell sends the server SIGTERM, which shuts it down cleanly.
 */
export function startWatchdog(serverPid: number, options: { killGroup?: boolean } = {}): Watchdog {
  // killGroup: SIGKILL the server's whole process group instead (a test cluster, whose data is
  // thrown away, and whose rsync state-transfer daemons must not outlive a killed run). dash's
  // kill wants `-s KILL --` there; `-KILL --` is rejected as "Illegal number".
  const kill = options.killGroup ? 'kill -s KILL -- "-$0"' : 'kill -TERM "$0"';
  const child = spawn('/bin/sh', ['-c', `read -r _ignored; ${kill} 2>/dev/null`, String(serverPid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    // Its own process group, so a Ctrl-C aimed at memgate does not take the watchdog down with it.
    detached: true,
  });
  child.on('error', () => {
    // Without /bin/sh there is simply no watchdog; the exit handler still covers normal exits.
  });
  // The watchdog must never be the reason node stays alive.
  child.unref();
  (child.stdin as unknown as Socket | null)?.unref();
  let disposed = false;
  return {
    dispose(): void {
      if (disposed) return;
      disposed = true;
      // SIGKILL, not EOF: EOF would make it signal a pid that may already have been reused.
      child.kill('SIGKILL');
    },
  };
}
