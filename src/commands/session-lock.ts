import type { Request } from '../model/request.js';
import type { Item, Response } from '../model/response.js';
import { applyDelta } from '../store/arithmetic.js';
import { isPlainSet, mapKey } from '../store/kv-store.js';
import type { SessionLocks } from '../store/session-locks.js';
import { countLookups } from './get.js';
import type { ClientSession, CommandContext, SessionLockService } from './handler.js';

// Commands on session lock keys (lock-keys.ts). A lock belongs to the client connection that
// took it, so that it dies with its holder and only its holder can release it:
// - add takes it (STORED) unless another connection holds it (NOT_STORED), waiting up to
//   sessions.lockWaitMs for it first;
// - set takes it too, or refreshes the caller's own; set to "0" is pecl memcache's release;
// - delete releases it when the caller holds it (DELETED), and is NOT_FOUND otherwise, so a
//   late delete from a replica or a redundant copy cannot free the next request's lock;
// - incr/decr (pecl memcache's first try) report the held value changed, without changing
//   it, or NOT_FOUND; the binary protocol's initial value takes a free lock;
// - get shows a held lock's value (a lock has no CAS: 0); touch and replace change only the
//   caller's own lock; append, prepend, cas and the meta commands mg and me find no item.
// docs/php-sessions.md describes it for users.

/** How often a waiting add tries again when no release through this gateway woke it. */
const RETRY_MS = 20;

/** The lock table's lock_value column (sql/innodb.sql); PHP's handlers store "1". */
const LOCK_VALUE_MAX = 255;

/** pecl memcache releases its lock by setting it to this. */
const PECL_RELEASE_VALUE = Buffer.from('0');

/** Whether a request is about a session lock key (and runs here, alone). */
export function isLockRequest(request: Request, service: SessionLockService): boolean {
  switch (request.kind) {
    case 'get':
      return request.keys.some(service.isLockKey);
    case 'store':
    case 'delete':
    case 'arith':
    case 'touch':
    case 'metaGet':
    case 'metaDebug':
      return service.isLockKey(request.key);
    default:
      return false;
  }
}

export async function executeLockRequest(request: Request, ctx: CommandContext, service: SessionLockService): Promise<Response> {
  const { locks } = service;
  const { client, stats } = ctx;
  switch (request.kind) {
    case 'store': {
      stats.count('cmd_set');
      const stored = (ok: boolean): Response => ({ kind: 'store', outcome: ok ? 'stored' : 'not_stored', cas: ok ? 0n : undefined });
      const { key, value, flags, exptime } = request;
      if (value.length > LOCK_VALUE_MAX && request.mode !== 'append' && request.mode !== 'prepend') {
        return { kind: 'serverError', message: `a session lock's value is at most ${LOCK_VALUE_MAX} bytes (sessions.lockKeys)` };
      }
      switch (request.mode) {
        case 'add':
        case 'set': {
          if (request.mode === 'set' && value.equals(PECL_RELEASE_VALUE)) {
            // Answered STORED either way, as memcached answers a set; only the holder's frees it.
            await release(client, key, locks);
            return stored(true);
          }
          if (request.mode === 'set' && request.cas !== 0n) return { kind: 'store', outcome: 'not_found' };
          const send = (id: number) => locks.take(id, key, value, flags, exptime, request.mode === 'set');
          if (request.mode === 'set') return stored(await take(client, key, locks, send));
          return stored(await takeWaiting(client, key, locks, send, service.waitMs));
        }
        case 'replace':
          return stored(await locks.replace(client.id, key, value, flags, exptime));
        case 'cas':
          stats.count('cas_misses');
          return { kind: 'store', outcome: 'not_found' };
        case 'append':
        case 'prepend':
          return stored(false);
      }
      break;
    }
    case 'delete': {
      const released = request.cas === undefined && !request.invalidate && (await release(client, request.key, locks));
      stats.count(released ? 'delete_hits' : 'delete_misses');
      return { kind: 'delete', outcome: released ? 'deleted' : 'not_found' };
    }
    case 'arith': {
      const prefix = request.incr ? 'incr' : 'decr';
      const held = (await locks.read([request.key])).get(mapKey(request.key));
      if (!held && request.initial && !request.steps) {
        const { key, initial: { value, exptime } } = request;
        if (await take(client, key, locks, (id) => locks.take(id, key, Buffer.from(value.toString()), 0, exptime, false))) {
          return { kind: 'arith', outcome: 'ok', value: request.initial.value, cas: 0n, created: true };
        }
        return arithmeticOn((await locks.read([request.key])).get(mapKey(request.key)), request.incr, request.delta, prefix, ctx);
      }
      return arithmeticOn(held, request.incr, request.delta, prefix, ctx);
    }
    case 'touch': {
      const touched = await locks.touch(client.id, request.key, request.exptime);
      stats.count('cmd_touch');
      stats.count(touched ? 'touch_hits' : 'touch_misses');
      return { kind: 'touch', outcome: touched ? 'touched' : 'not_found' };
    }
    case 'get':
      return lockAwareGet(request.keys, request.withCas, request.touchExptime, ctx, service);
    case 'metaGet':
      return { kind: 'metaGet', item: null };
    case 'metaDebug':
      return { kind: 'metaDebug', item: null };
  }
  throw new Error(`not a session lock request: ${request.kind}`);
}

/** A take for the connection, counted in client.locks before it is sent. */
async function take(
  client: ClientSession, key: Buffer, locks: SessionLocks, send: (connection: number) => Promise<boolean>,
): Promise<boolean> {
  client.locks++;
  const taken = await send(client.id);
  if (taken) client.held.add(mapKey(key));
  else client.locks--;
  return taken;
}

/**
 * An add of a held lock waits up to waitMs for it to be released before it answers NOT_STORED:
 * PHP's handlers sleep 150 ms or more between tries, so a waiter woken at the release (when it
 * goes through this gateway; others are tried again every RETRY_MS) gets the lock sooner, and
 * a contended session's requests give up less often.
 */
async function takeWaiting(
  client: ClientSession, key: Buffer, locks: SessionLocks, send: (connection: number) => Promise<boolean>, waitMs: number,
): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await take(client, key, locks, send)) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await locks.waitForRelease(key, Math.min(left, RETRY_MS));
  }
}

async function release(client: ClientSession, key: Buffer, locks: SessionLocks): Promise<boolean> {
  client.held.delete(mapKey(key));
  const released = await locks.release(client.id, key);
  if (released && client.locks > 0) client.locks--;
  return released;
}

/**
 * Whether a plain set of session data is a copy of another connection's write, by how PHP's
 * handlers send copies: php-memcached sends its replica copy quiet (SETQ) to the next server,
 * pecl memcache its redundant copy as the data followed by its lock set to 0, both through a
 * connection that does not hold the session's lock. A request's own write of its data is never
 * one, also through a connection that does not hold the lock (with several servers in
 * save_path, php-memcached often reads and writes the data through another server than the
 * lock's). A lone-* data pattern (pecl memcache's bare ids) only counts the second kind, so
 * that other clients' quiet sets stay plain sets.
 */
export function isDataCopy(request: Request, next: Request | undefined, { client }: CommandContext, service: SessionLockService): boolean {
  if (request.kind !== 'store' || !isPlainSet(request) || service.isLockKey(request.key)) return false;
  const data = service.lockOfData(request.key);
  if (!data || client.held.has(mapKey(data.lock))) return false;
  if (data.specific && request.noreply) return true;
  return next !== undefined && 'key' in next && next.key.equals(data.lock);
}

/**
 * A copy is answered as stored and not written: every gateway writes the same database, where
 * the request's own write already is, and a copy that came late would overwrite the session
 * as a later request wrote it.
 */
export function skipDataCopy({ stats }: CommandContext, { locks }: SessionLockService): Response {
  stats.count('cmd_set');
  locks.counts.skippedCopies++;
  return { kind: 'store', outcome: 'stored', cas: 0n };
}

/** incr/decr of a held lock: the changed value is reported, and the lock left as it is. */
function arithmeticOn(held: Item | undefined, incr: boolean, delta: bigint, prefix: 'incr' | 'decr', { stats }: CommandContext): Response {
  if (!held) {
    stats.count(`${prefix}_misses`);
    return { kind: 'arith', outcome: 'not_found' };
  }
  stats.count(`${prefix}_hits`);
  const changed = applyDelta(held.value, incr, delta);
  if (!changed) return { kind: 'arith', outcome: 'non_numeric' };
  return { kind: 'arith', outcome: 'ok', value: changed.value, cas: 0n, created: false };
}

/**
 * A get naming lock keys: those are read from the lock table, the others from the store. gat
 * touches the items it finds, never a lock.
 */
async function lockAwareGet(
  keys: Buffer[], withCas: boolean, touchExptime: number | undefined, ctx: CommandContext, { isLockKey, locks }: SessionLockService,
): Promise<Response> {
  const lockKeys = keys.filter(isLockKey);
  const itemKeys = keys.filter((key) => !isLockKey(key));
  const [held, found] = await Promise.all([
    locks.read(lockKeys),
    touchExptime === undefined ? ctx.store.get(itemKeys, { access: 'record' }) : ctx.store.getAndTouch(itemKeys, touchExptime),
  ]);
  const items = keys.map((key): Item | null => (isLockKey(key) ? held.get(mapKey(key)) : found.get(mapKey(key))) ?? null);
  countLookups(items, touchExptime !== undefined, ctx.stats);
  return { kind: 'hits', items, withCas };
}
