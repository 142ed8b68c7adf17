/**
 * The checks every handler/protocol combination goes through, written once: many PHP
 * processes on one session id, many sessions at once, and the session life-cycle calls.
 */
import { expect } from 'chai';
import {
  emptyTally,
  incrementWithRetries,
  markersOf,
  newSessionId,
  outcomeOf,
  PhpProcess,
  problemsOf,
  runBounded,
  runPhp,
  shuffle,
  sleep,
  type IncrementTally,
  type PhpRun,
  type PhpSettings,
} from './harness.js';

export const CONCURRENCY = 8;

/** The session as a `get` request sees it; the read itself must go through cleanly. */
export async function readSession(settings: PhpSettings, sid: string): Promise<Record<string, unknown>> {
  const run = await runPhp(settings, { action: 'get', sid });
  expect(outcomeOf(run), `reading ${sid}: ${problemsOf(run).join(' | ')}`).to.equal('ok');
  expect(run.result!.id).to.equal(sid);
  const before = run.result!.before;
  return Array.isArray(before) ? {} : (before ?? {});
}

export function expectOk(run: PhpRun, what: string): void {
  expect(outcomeOf(run), `${what}: ${problemsOf(run).join(' | ')}`).to.equal('ok');
}

function describeTally(label: string, requests: number, tally: IncrementTally): string {
  return `${label}: ${requests} requests, ${tally.attempts} PHP runs, ${tally.starved} lock starvations (retried), ${tally.errors} errors, ${tally.warned} written with warnings`;
}

/**
 * `requests` increments of one session id, `CONCURRENCY` PHP processes at a time; the final
 * counter equals the successful increments and every successful marker is there exactly once.
 */
export async function oneSharedSession(label: string, settings: PhpSettings, requests: number): Promise<IncrementTally> {
  const sid = newSessionId('shared');
  const tally = emptyTally();
  await runBounded(Array.from({ length: requests }, (_, i) => () => incrementWithRetries(settings, sid, `r${i}`, tally)), CONCURRENCY);
  console.log(`      ${describeTally(label, requests, tally)}`);
  expect(tally.errors + tally.warned, `errors and warnings: ${tally.errorSamples.join('\n')}`).to.equal(0);
  expect(tally.gaveUp, 'requests that never got the session').to.equal(0);
  expect(tally.committed).to.have.length(requests);
  const session = await readSession(settings, sid);
  const markers = markersOf(session);
  const lost = tally.committed.filter((m) => !markers.includes(m));
  expect(lost, `increments PHP reported as written but lost (counter ${String(session.n)} of ${requests})`).to.deep.equal([]);
  expect(markers.sort(), 'markers in the session = the successful requests').to.deep.equal([...tally.committed].sort());
  expect(session.n, 'counter').to.equal(requests);
  return tally;
}

/** `sessions` session ids, `perSession` increments each, all shuffled and run concurrently. */
export async function manySessions(label: string, settings: PhpSettings, sessions: number, perSession: number): Promise<void> {
  const sids = Array.from({ length: sessions }, () => newSessionId('many'));
  const tallies = new Map(sids.map((sid) => [sid, emptyTally()]));
  const tasks = shuffle(sids.flatMap((sid) => Array.from({ length: perSession }, (_, i) => () => incrementWithRetries(settings, sid, `${sid.slice(-6)}-${i}`, tallies.get(sid)!))));
  await runBounded(tasks, CONCURRENCY);
  const sum = emptyTally();
  for (const tally of tallies.values()) {
    sum.attempts += tally.attempts;
    sum.starved += tally.starved;
    sum.errors += tally.errors;
    sum.warned += tally.warned;
    sum.errorSamples.push(...tally.errorSamples);
  }
  console.log(`      ${describeTally(`${label} (${sessions} sessions)`, sessions * perSession, sum)}`);
  expect(sum.errors + sum.warned, `errors and warnings: ${sum.errorSamples.slice(0, 5).join('\n')}`).to.equal(0);
  const reads = await runBounded(sids.map((sid) => () => readSession(settings, sid)), CONCURRENCY);
  sids.forEach((sid, i) => {
    const tally = tallies.get(sid)!;
    expect(tally.committed, sid).to.have.length(perSession);
    expect(markersOf(reads[i]).sort(), sid).to.deep.equal([...tally.committed].sort());
    expect(reads[i]!.n, sid).to.equal(perSession);
  });
}

/** A session holding `data`, written by one request. */
export async function putSession(settings: PhpSettings, data: Record<string, unknown>, sid = newSessionId('put')): Promise<string> {
  expectOk(await runPhp(settings, { action: 'put', sid, data }), `put ${sid}`);
  return sid;
}

export async function regenerateDropsTheOldId(settings: PhpSettings): Promise<void> {
  const sid = await putSession(settings, { user: 'alice', n: 5 });
  const run = await runPhp(settings, { action: 'regenerate', sid });
  expectOk(run, 'regenerate');
  expect(run.result!.regenerated).to.equal(true);
  const newId = run.result!.id;
  expect(newId).to.not.equal(sid);
  expect(newId).to.match(/^[A-Za-z0-9,-]{20,}$/);
  expect(await readSession(settings, newId), 'the new id carries the data').to.deep.equal({ user: 'alice', n: 1 });
  expect(await readSession(settings, sid), 'the old id is gone').to.deep.equal({});
}

export async function destroyEmptiesTheSession(settings: PhpSettings): Promise<void> {
  const sid = await putSession(settings, { user: 'bob' });
  expect(await readSession(settings, sid)).to.deep.equal({ user: 'bob' });
  const run = await runPhp(settings, { action: 'destroy', sid });
  expectOk(run, 'destroy');
  expect(run.result!.destroyed).to.equal(true);
  expect(await readSession(settings, sid)).to.deep.equal({});
}

/** session.use_strict_mode=1: an unknown id is replaced by a new one, a known id kept. */
export async function strictModeChecksIds(settings: PhpSettings): Promise<void> {
  const strict = { ...settings, 'session.use_strict_mode': 1 };
  const known = await putSession(settings, { user: 'carol' });
  const kept = await runPhp(strict, { action: 'strict', sid: known });
  expectOk(kept, 'strict mode, known id');
  expect(kept.result!.id, 'a known id is kept').to.equal(known);
  expect(kept.result!.before).to.deep.equal({ user: 'carol' });

  const unknown = newSessionId('unknown');
  for (const round of [1, 2]) {
    // The second round fails if the validity check itself created the id (php-memcached
    // sends exptime 2678400, an absolute time in 1970 that must be born expired).
    const replaced = await runPhp(strict, { action: 'strict', sid: unknown });
    expectOk(replaced, `strict mode, unknown id, round ${round}`);
    expect(replaced.result!.id, `round ${round}: an unknown id is replaced`).to.not.equal(unknown);
    expect(replaced.result!.id).to.match(/^[A-Za-z0-9,-]{20,}$/);
    expect(replaced.result!.before).to.deep.equal([]);
  }
}

/**
 * A second request on a locked session waits (stays running while the first holds the lock)
 * and then gets the session with the first one's write in it.
 */
export async function secondRequestWaitsForTheLock(settings: PhpSettings, waiterSettings: PhpSettings): Promise<void> {
  const sid = await putSession(settings, { n: 10, markers: '' });
  const holder = new PhpProcess(settings, { action: 'hold', sid, marker: 'holder' });
  let waiter: PhpProcess | undefined;
  try {
    expect(await holder.waitForLine('LOCKED'), `holder: ${holder.stdout} ${holder.stderr}`).to.equal(true);
    waiter = new PhpProcess(waiterSettings, { action: 'incr', sid, marker: 'waiter' });
    waiter.child.stdin!.end();
    expect(await waiter.waitForLine('STARTING'), `waiter: ${waiter.stdout} ${waiter.stderr}`).to.equal(true);
    await sleep(800);
    expect(waiter.exited, `the waiter finished while the lock was held: ${waiter.stdout} ${waiter.stderr}`).to.equal(false);
    holder.send('go');
    const held = await holder.done;
    expectOk(held, 'holder');
    const waited = await waiter.done;
    expectOk(waited, 'waiter');
    expect(waited.result!.before, 'the waiter read after the holder wrote').to.deep.equal({ n: 11, markers: 'holder,' });
    expect(await readSession(settings, sid)).to.deep.equal({ n: 12, markers: 'holder,waiter,' });
  } finally {
    holder.child.kill('SIGKILL');
    waiter?.child.kill('SIGKILL');
  }
}

/**
 * php-memcached's CLI defaults (sess_lock_expire 0, so the lock never expires): a PHP process
 * SIGKILLed while it holds the session lock takes the lock with it. The next request on the
 * session, with the default lock wait, starts within 1.5 s of the kill and sees the session as
 * it was before the killed request, which wrote nothing.
 */
export async function killedHoldersLockGoesWithIt(settings: PhpSettings): Promise<void> {
  const sid = await putSession(settings, { n: 1, markers: 'first,' });
  const holder = new PhpProcess(settings, { action: 'hold', sid, marker: 'killed' });
  let next: PhpProcess | undefined;
  try {
    expect(await holder.waitForLine('LOCKED'), `holder: ${holder.stdout} ${holder.stderr}`).to.equal(true);
    holder.child.kill('SIGKILL');
    const killedAt = Date.now();
    await holder.done;
    next = new PhpProcess(settings, { action: 'hold', sid, marker: 'next' });
    const started = await next.waitForLine('LOCKED', 5_000);
    const waited = Date.now() - killedAt;
    expect(started, `the next request: ${next.stdout} ${next.stderr}`).to.equal(true);
    expect(waited, 'ms from the kill until the next request had the session').to.be.below(1500);
    next.send('go');
    const run = await next.done;
    expectOk(run, 'the next request');
    expect(run.result!.before, 'the killed request wrote nothing').to.deep.equal({ n: 1, markers: 'first,' });
  } finally {
    holder.child.kill('SIGKILL');
    next?.child.kill('SIGKILL');
  }
  expect(await readSession(settings, sid)).to.deep.equal({ n: 2, markers: 'first,next,' });
}

/**
 * memcached.sess_lock_expire=2 and a request that holds the lock but hangs (still running, its
 * connection open): the lock expires as the item would in memcached, and a waiting request
 * takes it over. Killing the hung request afterwards does not release the new holder's lock.
 */
export async function hungHoldersLockExpires(settings: PhpSettings): Promise<void> {
  const expiring = { ...settings, 'memcached.sess_lock_expire': 2 };
  const sid = await putSession(expiring, { n: 1, markers: 'first,' });
  const hung = new PhpProcess(expiring, { action: 'hold', sid, marker: 'hung' });
  let next: PhpProcess | undefined;
  try {
    expect(await hung.waitForLine('LOCKED'), `hung: ${hung.stdout} ${hung.stderr}`).to.equal(true);
    const lockedAt = Date.now();
    // Waits up to 40 x 150 ms, far longer than the 2 s the lock lives.
    next = new PhpProcess({ ...expiring, 'memcached.sess_lock_retries': 40 }, { action: 'hold', sid, marker: 'next' });
    expect(await next.waitForLine('LOCKED', 15_000), `next: ${next.stdout} ${next.stderr}`).to.equal(true);
    // Expiry has whole-second resolution: the lock lived more than 1 s.
    expect(Date.now() - lockedAt, 'ms until the lock expired').to.be.within(1000, 4000);
    hung.child.kill('SIGKILL');
    await hung.done;
    const third = await runPhp(settings, { action: 'incr', sid, marker: 'third' });
    expect(outcomeOf(third), 'the next request still holds the lock').to.equal('starved');
    next.send('go');
    const run = await next.done;
    expectOk(run, 'the request that took over the lock');
    expect(run.result!.before).to.deep.equal({ n: 1, markers: 'first,' });
  } finally {
    hung.child.kill('SIGKILL');
    next?.child.kill('SIGKILL');
  }
  expect(await readSession(expiring, sid)).to.deep.equal({ n: 2, markers: 'first,next,' });
}

/**
 * CONCURRENCY requests at once on each of `sessions` brand-new session ids: the lock item is
 * created by the racing requests themselves (ADD, or memcache's incr/add pair), so exactly one
 * may win each time.
 */
export async function burstsOnNewSessions(label: string, settings: PhpSettings, sessions: number): Promise<void> {
  const sum = emptyTally();
  for (let round = 0; round < sessions; round++) {
    const sid = newSessionId('burst');
    const tally = emptyTally();
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => incrementWithRetries(settings, sid, `b${i}`, tally)));
    expect(tally.errors + tally.warned, `errors and warnings: ${tally.errorSamples.join('\n')}`).to.equal(0);
    expect(tally.committed, sid).to.have.length(CONCURRENCY);
    const session = await readSession(settings, sid);
    expect(markersOf(session).sort(), sid).to.deep.equal([...tally.committed].sort());
    expect(session.n, sid).to.equal(CONCURRENCY);
    sum.attempts += tally.attempts;
    sum.starved += tally.starved;
  }
  console.log(`      ${describeTally(`${label} (${sessions} new sessions)`, sessions * CONCURRENCY, sum)}`);
}
