// One PHP session page view (php-memcached: add lock, read data, write data, delete lock) as
// each lock design would send it to the database. The data side is memgate's own statements
// (src/store/sql), so only the lock differs between designs.
import type { ItemValues } from '../../src/store/sql/insert-item.js';
import { itemStatements } from '../../src/store/sql/item-statements.js';
import { affectedRows } from '../../src/store/sql/results.js';
import type { SqlSession } from '../../src/store/sql-session.js';
import type { GroupWriter } from './group-writer.js';
import { RELEASE_LOCK_SQL, takeLockSql } from './lock-sql.js';

export const DESIGN_NAMES = ['A', 'B', 'B+live', 'C', 'D'] as const;
export type DesignName = (typeof DESIGN_NAMES)[number];

export const DESIGN_LABELS: Record<DesignName, string> = {
  A: 'A: lock rows in the InnoDB item table',
  B: 'B: lock rows in a MEMORY table',
  'B+live': 'B with the gateway liveness check in the add',
  C: 'C: lock as a row lock of an open transaction',
  D: 'D: B (with liveness) + group commit of data writes',
};

/** php-memcached's keys (default memcached.sess_prefix). */
export const SESSION_PREFIX = 'memc.sess.key.';
export const lockKeyOf = (sid: string) => Buffer.from(`${SESSION_PREFIX}lock.${sid}`);
export const dataKeyOf = (sid: string) => Buffer.from(`${SESSION_PREFIX}${sid}`);

/** php-memcached: the lock lives max_execution_time (30 s under FPM), the data gc_maxlifetime. */
const LOCK_EXPTIME = 30;
const DATA_EXPTIME = 1440;
const LOCK_VALUE = Buffer.from('1');

/** MySQL's "lock wait timeout exceeded": with innodb_lock_wait_timeout=0, a busy row lock. */
export const LOCK_WAIT_TIMEOUT = 1205;

/** What one client needs for its page views. */
export interface ViewClient {
  session: SqlSession;
  /** the gateway this client would be connected through */
  gatewayId: string;
  /** the gateway's id for the client connection */
  connId: number;
  value: Buffer;
  nextCas: () => bigint;
  /** D only: the writer shared by every client */
  writer?: GroupWriter;
}

/** One try at a page view: true when done, false when the lock was busy (then nothing changed). */
export type PageView = (client: ViewClient, sid: string) => Promise<boolean>;

/** memgate's statements on the item table; the size limit only bounds append, which no page view sends. */
export function dataStatements(table: string) {
  return itemStatements(table, 1024 * 1024);
}

function dataRow(client: ViewClient, sid: string): ItemValues {
  return { key: dataKeyOf(sid), value: client.value, flags: 0, cas: client.nextCas(), bits: 0, exptime: DATA_EXPTIME };
}

/** The page views of every design on the item table `table`. */
export function pageViews(table: string): Record<DesignName, PageView> {
  const sql = dataStatements(table);
  const readData = (client: ViewClient, sid: string) => sql.selectItems(client.session, [dataKeyOf(sid)], false);

  // Today: the lock is an item like any other; its add and delete are durable commits.
  const today: PageView = async (client, sid) => {
    const { session } = client;
    const lock = { key: lockKeyOf(sid), value: LOCK_VALUE, flags: 0, cas: client.nextCas(), bits: 0, exptime: LOCK_EXPTIME };
    if (!(await sql.addItem(session, lock))) return false;
    await readData(client, sid);
    await sql.setMany(session, [dataRow(client, sid)]);
    await sql.deleteItem(session, lock.key);
    return true;
  };

  const memoryLock = (liveness: boolean, write: (client: ViewClient, row: ItemValues) => Promise<void>): PageView => {
    const take = takeLockSql(liveness);
    return async (client, sid) => {
      const { session, gatewayId, connId } = client;
      const key = lockKeyOf(sid);
      if (affectedRows(await session.execute(take, [key, gatewayId, connId, LOCK_EXPTIME, LOCK_EXPTIME])) === 0) return false;
      await readData(client, sid);
      await write(client, dataRow(client, sid));
      await session.execute(RELEASE_LOCK_SQL, [key, gatewayId, connId]);
      return true;
    };
  };
  const ownWrite = (client: ViewClient, row: ItemValues) => sql.setMany(client.session, [row]);
  const groupWrite = (client: ViewClient, row: ItemValues) => client.writer!.write(row);

  // PdoSessionHandler's way: the lock row is inserted and deleted inside the transaction that
  // writes the data, so only the data reaches the commit; a second taker fails at once.
  const transactional: PageView = async (client, sid) => {
    const { session } = client;
    const lock = { key: lockKeyOf(sid), value: LOCK_VALUE, flags: 0, cas: client.nextCas(), bits: 0, exptime: LOCK_EXPTIME };
    await session.query('BEGIN');
    try {
      if (!(await sql.addItem(session, lock))) {
        await session.query('ROLLBACK');
        return false;
      }
    } catch (error) {
      await session.query('ROLLBACK');
      if ((error as { errno?: number }).errno === LOCK_WAIT_TIMEOUT) return false;
      throw error;
    }
    await readData(client, sid);
    await sql.setMany(session, [dataRow(client, sid)]);
    await sql.deleteItem(session, lock.key);
    await session.query('COMMIT');
    return true;
  };

  return {
    A: today,
    B: memoryLock(false, ownWrite),
    'B+live': memoryLock(true, ownWrite),
    C: transactional,
    D: memoryLock(true, groupWrite),
  };
}

/** Session settings a design's client connections need. */
export function sessionSetup(design: DesignName): string[] {
  return design === 'C' ? ['SET SESSION innodb_lock_wait_timeout = 0'] : [];
}
