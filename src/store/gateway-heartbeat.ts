import type { Logger } from 'winston';
import type { SessionLocks } from './session-locks.js';

/** Heartbeats per liveness period: a few may be late or lost before the gateway counts as dead. */
const BEATS_PER_LIVENESS = 5;
/** Rows of free locks are deleted this often (every gateway does it; it is idempotent). */
const DELETE_FREE_EVERY_MS = 60_000;

export interface GatewayHeartbeat {
  /** stops beating, then releases every lock of this gateway and deletes its row */
  stop(): Promise<void>;
}

/**
 * Keeps this gateway's heartbeat fresh in memgate_gateways, so that other gateways treat its
 * session locks as held; they take them over once it has been silent for livenessSeconds. The
 * first beat is written before the gateway serves, so its first locks are not seen as orphans.
 */
export async function startGatewayHeartbeat(locks: SessionLocks, livenessSeconds: number, logger: Logger): Promise<GatewayHeartbeat> {
  let failing = false;
  const beat = async () => {
    try {
      await locks.heartbeat();
      if (failing) logger.info('session lock heartbeat written again');
      failing = false;
    } catch (error) {
      // Once the silence passes livenessSeconds, other gateways may take this one's locks.
      if (!failing) logger.warn('cannot write the session lock heartbeat', { error: (error as Error).message });
      failing = true;
    }
  };
  await beat();
  logger.info('session locks on', { gateway: locks.gateway.id, livenessSeconds });
  let beating: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    beating = beating.then(beat);
  }, (livenessSeconds * 1000) / BEATS_PER_LIVENESS);
  const sweep = setInterval(() => {
    beating = beating.then(() => locks.deleteFree().then(() => undefined, () => undefined));
  }, DELETE_FREE_EVERY_MS);
  timer.unref();
  sweep.unref();
  return {
    async stop() {
      clearInterval(timer);
      clearInterval(sweep);
      await beating;
      try {
        await locks.leave();
      } catch (error) {
        logger.warn('cannot release this gateway\'s session locks; others take them over after the liveness period', {
          error: (error as Error).message,
        });
      }
    },
  };
}
