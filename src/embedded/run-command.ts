import { spawn } from 'node:child_process';
import type { Logger } from 'winston';

export interface RunCommandOptions {
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** Level for each output line; apt-get is chatty, so callers usually pick 'debug'. */
  outputLevel?: string;
}

const TAIL_LINES = 30;

/**
 * Runs a command to completion. Output is forwarded to the logger rather than
 * inherited so that library code never writes to the terminal itself, and the
 * last lines are kept so a failure can explain itself.
 */
export function runCommand(file: string, args: readonly string[], opts: RunCommandOptions): Promise<void> {
  const { logger, outputLevel = 'debug' } = opts;
  logger.debug(`running ${file} ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        logger.log(outputLevel, `${file}: ${line}`);
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve();
        return;
      }
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new Error(`${file} ${args.join(' ')} ${how}:\n${tail.join('\n')}`));
    });
  });
}
