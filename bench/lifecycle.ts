// What a benchmark does with everything it starts (databases, gateways, memcached, temp
// dirs): each registers its release as soon as it exists (src/lifecycle's Releasers), and
// Ctrl-C or SIGTERM releases them all before the process goes (src/lifecycle's signal
// handlers; a second signal exits at once).
import { pathToFileURL } from 'node:url';
import winston, { type Logger } from 'winston';
import { Releasers } from '../src/lifecycle/releasers.js';
import { installSignalHandlers } from '../src/lifecycle/signals.js';

/** A benchmark stopped by a signal did not finish: it exits as a shell reports Ctrl-C. */
export const INTERRUPTED_EXIT_CODE = 130;

/** The benches' logger for what they start: warnings and errors only, on stderr beside the progress lines. */
export function benchLogger(): Logger {
  return winston.createLogger({ level: 'warn', transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn'] })] });
}

/** A progress line on stderr, so that stdout holds only the report. */
export function logLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

export interface BenchLifecycle {
  /**
   * Registers the release of what was just started and returns it. Once a signal has stopped
   * the run, the resource is released at once and this throws: nothing outlives the run.
   */
  own<T>(name: string, resource: T, release: (resource: T) => Promise<void> | void): Promise<T>;
  /** Whether a signal has asked the run to stop; long loops check it between steps. */
  readonly interrupted: boolean;
}

export interface LifecycleOptions {
  logger: Logger;
  /** Progress lines: what is being stopped, and releases that failed. */
  log: (line: string) => void;
}

/**
 * Runs `body` with a lifecycle whose releasers run when it returns or throws, and on the
 * first SIGINT or SIGTERM, after which the process exits with INTERRUPTED_EXIT_CODE.
 */
export async function withBenchLifecycle<T>(options: LifecycleOptions, body: (lifecycle: BenchLifecycle) => Promise<T>): Promise<T> {
  const { log } = options;
  const releasers = new Releasers();
  let interrupted = false;
  const releaseAll = () => releasers.release().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
  const uninstall = installSignalHandlers(async () => {
    interrupted = true;
    log('interrupted: stopping everything the benchmark started …');
    await releaseAll();
    process.exit(INTERRUPTED_EXIT_CODE);
  }, options.logger);
  const lifecycle: BenchLifecycle = {
    async own(name, resource, release) {
      try {
        releasers.push(name, () => release(resource));
      } catch (error) {
        await release(resource);
        throw error;
      }
      return resource;
    },
    get interrupted() {
      return interrupted;
    },
  };
  try {
    return await body(lifecycle);
  } finally {
    // Released before the handlers go: a signal meanwhile waits for the same release.
    await releaseAll();
    uninstall();
  }
}

/**
 * Runs `main` when `moduleUrl` is the script node was started with. Output piped into a reader
 * that went away (`| head`) must not skip the cleanup, so the run goes on quietly; a failure
 * is printed and sets the exit code.
 */
export async function runAsScript(moduleUrl: string, main: () => Promise<unknown>): Promise<void> {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  try {
    await main();
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
}
