/**
 * Differential test of the memcached binary protocol: every case of the
 * corpus in binary-cases.ts is sent byte-for-byte to the real memcached
 * 1.6.18 and to memgate, and the replies must be identical packet by packet
 * after masking what legitimately differs (test/helpers/binary-packets.ts):
 *   - cas fields of reply headers (rendered as 0 or <nonzero>),
 *   - the body of successful Version replies,
 *   - stats runs (Stat entries + empty terminator with the request's opaque,
 *     compared structurally, plus the values of the counters a step names).
 * Whether the server closed the connection after each step must match too.
 * All steps of a case are compared; a failure lists every differing step
 * (+ memcached, - memgate).
 *
 * Three server pairs: default settings, flush disabled (memcached -F /
 * flushAll.enabled=false), and SASL (memcached -S with a Cyrus sasldb holding
 * one PLAIN user / memgate sasl.passwordFile with the same user). The SASL
 * pair needs `saslpasswd2` (Debian package sasl2-bin).
 *
 * Set MEMGATE_DIFF_SELFTEST=1 to run the corpus against two memcached
 * instances instead (validates that the corpus itself is deterministic).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { binaryExchange, describeRequests, renderResponses, splitPackets } from '../../helpers/binary-packets.js';
import { startGateway } from '../../helpers/gateway.js';
import { startMemcached } from '../../helpers/memcached-server.js';
import { RawConnection } from '../../helpers/raw-connection.js';
import { render } from '../../helpers/reply-masking.js';
import { BINARY_CASES, SASL_USERS, type BinaryCase, type BinaryStep, type BinaryStepContext, type CaseGroup } from './binary-cases.js';

interface Target {
  host: string;
  port: number;
  stop(): Promise<void>;
}

interface StepOutcome {
  /** Rendered, masked reply packets, one per line. */
  reply: string;
  closed: boolean;
  timedOut: boolean;
  /** The connection was already closed, the step was not sent. */
  notSent?: boolean;
}

const SELFTEST = process.env['MEMGATE_DIFF_SELFTEST'] === '1';
const STEP_TIMEOUT_MS = 4000;
const CLOSE_TIMEOUT_MS = 2000;

// ───────────────────────────── case runner ─────────────────────────────

interface CaseRun {
  outcomes: StepOutcome[];
  sent: string[];
}

function payloadOf(step: BinaryStep, ctx: BinaryStepContext): Buffer {
  const p = typeof step.send === 'function' ? step.send(ctx) : step.send;
  return Array.isArray(p) ? Buffer.concat(p) : p;
}

async function runCase(target: Target, tc: BinaryCase): Promise<CaseRun> {
  const casByOpaque = new Map<number, bigint>();
  const ctx: BinaryStepContext = {
    cas(opaque: number): bigint {
      const v = casByOpaque.get(opaque);
      if (v === undefined) throw new Error(`case "${tc.name}": no non-zero cas seen in a reply with opaque ${opaque}`);
      return v;
    },
  };
  const outcomes: StepOutcome[] = [];
  const sent: string[] = [];
  let conn: RawConnection | undefined = await RawConnection.open(target.port, { host: target.host });
  try {
    for (const step of tc.steps) {
      if (step.newConnection) {
        await conn?.close();
        conn = await RawConnection.open(target.port, { host: target.host });
      }
      const payload = payloadOf(step, ctx);
      sent.push(describeRequests(payload));
      if (step.sleepMs) await new Promise((r) => setTimeout(r, step.sleepMs));
      if (!conn || conn.isClosed) {
        outcomes.push({ reply: '', closed: true, timedOut: false, notSent: true });
        continue;
      }
      const mode = step.mode ?? 'sentinel';
      if (step.text) {
        const res = await conn.exchange(payload, { mode, quietMs: step.quietMs, timeoutMs: mode === 'close' ? CLOSE_TIMEOUT_MS : STEP_TIMEOUT_MS });
        outcomes.push({ reply: `text: ${render(res.data)}`, closed: res.closed, timedOut: res.timedOut });
        continue;
      }
      const res = await binaryExchange(conn, payload, {
        mode,
        sentinel: tc.sentinel,
        chunkSize: step.chunkSize,
        chunkDelayMs: step.chunkDelayMs,
        quietMs: step.quietMs,
        timeoutMs: mode === 'close' ? CLOSE_TIMEOUT_MS : STEP_TIMEOUT_MS,
      });
      for (const p of splitPackets(res.data).packets) if (p.cas !== 0n) casByOpaque.set(p.opaque, p.cas);
      outcomes.push({ reply: renderResponses(res.data, { statKeys: step.statKeys }).join('\n'), closed: res.closed, timedOut: res.timedOut });
    }
  } finally {
    await conn?.close();
  }
  return { outcomes, sent };
}

function describeStep(tc: BinaryCase, run: CaseRun, i: number): string {
  return `case "${tc.name}" step ${i + 1}/${tc.steps.length}: sent ${run.sent[i] ?? '?'}`;
}

function renderOutcome(o: StepOutcome): string {
  const state = o.notSent ? 'not sent (connection closed)' : [o.closed ? 'closed' : 'open', ...(o.timedOut ? ['timed out'] : [])].join(', ');
  return `${o.reply === '' ? '(no reply)' : o.reply}\n[${state}]`;
}

/**
 * Every step is compared (not just up to the first difference); the differing steps are
 * listed together, memcached's transcript as "expected".
 */
function compareRuns(tc: BinaryCase, expected: CaseRun, actual: CaseRun): void {
  // The corpus must be well-formed for memcached: every sentinel answered in time.
  expected.outcomes.forEach((o, i) => {
    expect(o.timedOut, `corpus error (memcached timed out) in ${describeStep(tc, expected, i)}`).to.equal(false);
  });
  const exp: string[] = [];
  const act: string[] = [];
  for (let i = 0; i < expected.outcomes.length; i++) {
    const e = renderOutcome(expected.outcomes[i]!);
    const a = renderOutcome(actual.outcomes[i]!);
    if (e === a) continue;
    const where = `## step ${i + 1}/${tc.steps.length}: sent ${expected.sent[i] ?? '?'}`;
    exp.push(where, e);
    act.push(where, a);
  }
  expect(act.join('\n'), `case "${tc.name}": ${exp.length / 2} step(s) differ (+ memcached, - memgate)`).to.equal(exp.join('\n'));
}

// ───────────────────────────── servers ─────────────────────────────

interface SaslFiles {
  dir: string;
  /** SASL_CONF_PATH for memcached -S (memcached.conf + sasldb2). */
  confDir: string;
  /** `user:password` lines for memgate. */
  passwordFile: string;
}

/** A Cyrus SASL config for memcached restricted to PLAIN, with the corpus' users in a private sasldb. */
function createSaslFiles(): SaslFiles {
  const dir = mkdtempSync(path.join(tmpdir(), 'memgate-bin-sasl-'));
  const sasldb = path.join(dir, 'sasldb2');
  writeFileSync(path.join(dir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${sasldb}\n`);
  try {
    for (const { user, password } of SASL_USERS) {
      execFileSync('saslpasswd2', ['-a', 'memcached', '-c', '-f', sasldb, '-p', user], { input: password, stdio: ['pipe', 'ignore', 'pipe'], timeout: 10_000 });
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`saslpasswd2 failed (install the Debian package sasl2-bin): ${err instanceof Error ? err.message : String(err)}`);
  }
  const passwordFile = path.join(dir, 'memgate-passwords');
  writeFileSync(passwordFile, SASL_USERS.map(({ user, password }) => `${user}:${password}\n`).join(''));
  return { dir, confDir: dir, passwordFile };
}

async function startReference(group: CaseGroup, sasl: SaslFiles | undefined): Promise<Target> {
  if (group === 'flushDisabled') return startMemcached(['-F']);
  if (group === 'sasl') return startMemcached(['-S'], { env: { SASL_CONF_PATH: sasl!.confDir } });
  return startMemcached();
}

async function startSubject(group: CaseGroup, sasl: SaslFiles | undefined): Promise<Target> {
  if (SELFTEST) return startReference(group, sasl);
  if (group === 'flushDisabled') return startGateway({ config: { flushAll: { enabled: false } } });
  if (group === 'sasl') return startGateway({ config: { sasl: { passwordFile: sasl!.passwordFile } } });
  return startGateway();
}

function defineCases(title: string, group: CaseGroup): void {
  const selected = BINARY_CASES.filter((c) => c.group === group);
  describe(title, function () {
    this.timeout(30_000);
    let reference: Target | undefined;
    let subject: Target | undefined;
    let sasl: SaslFiles | undefined;

    before(async function () {
      this.timeout(120_000);
      if (group === 'sasl') sasl = createSaslFiles();
      [reference, subject] = await Promise.all([startReference(group, sasl), startSubject(group, sasl)]);
    });

    after(async function () {
      this.timeout(30_000);
      await Promise.all([reference?.stop(), subject?.stop()]);
      if (sasl) rmSync(sasl.dir, { recursive: true, force: true });
    });

    for (const tc of selected) {
      it(tc.name, async function () {
        const [expected, actual] = await Promise.all([runCase(reference!, tc), runCase(subject!, tc)]);
        compareRuns(tc, expected, actual);
      });
    }
  });
}

describe(`binary protocol differential: memcached 1.6.18 vs ${SELFTEST ? 'memcached (selftest)' : 'memgate'}`, function () {
  defineCases('flush disabled', 'flushDisabled');
  defineCases('SASL required', 'sasl');
  // The timing case is last in the corpus and in this group.
  defineCases('default settings', 'default');
});
