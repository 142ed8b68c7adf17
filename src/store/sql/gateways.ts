import type { Connection } from '../pool.js';
import { NOW } from './fragments.js';
import { affectedRows } from './results.js';

// memgate_gateways: one row per running gateway, whose heartbeat tells the other gateways that
// its session locks are still held (sql/session-locks.ts reads it).

/** A gateway's heartbeat, inserting its row the first time. Parameters: id, host, pid. */
const HEARTBEAT_SQL = `INSERT INTO memgate_gateways (gateway_id, host, pid, started_at, heartbeat_at)
    VALUES (?, ?, ?, ${NOW}, ${NOW})
    ON DUPLICATE KEY UPDATE heartbeat_at = VALUES(heartbeat_at)`;

/** A gateway that stops. */
const LEAVE_SQL = 'DELETE FROM memgate_gateways WHERE gateway_id = ?';

/** Rows of gateways silent for longer than the parameter (seconds): long dead. */
const FORGET_SILENT_SQL = `DELETE FROM memgate_gateways WHERE heartbeat_at < ${NOW} - ?`;

export interface GatewayIdentity {
  id: string;
  host: string;
  pid: number;
}

export const gatewayStatements = {
  async heartbeat(c: Connection, gateway: GatewayIdentity): Promise<void> {
    await c.execute(HEARTBEAT_SQL, [gateway.id, gateway.host, gateway.pid]);
  },
  async leave(c: Connection, id: string): Promise<void> {
    await c.execute(LEAVE_SQL, [id]);
  },
  /** how many rows of long-silent gateways were deleted */
  async forgetSilent(c: Connection, seconds: number): Promise<number> {
    return affectedRows(await c.execute(FORGET_SILENT_SQL, [seconds]));
  },
};
