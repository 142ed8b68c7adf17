/**
 * Differential test of the memcached text protocol: every case of the corpus
 * in text-cases.ts is sent byte-for-byte to the real memcached 1.6.18 and to
 * memgate, and the replies must be identical after masking what legitimately
 * differs:
 *   - cas uniques in `VALUE <key> <flags> <bytes> <cas>` lines (gets/gats),
 *   - the text after `VERSION ` of explicit `version` commands,
 *   - stats output (compared structurally only).
 *
 * Set MEMGATE_DIFF_SELFTEST=1 to run the corpus against two memcached
 * instances instead (validates that the corpus itself is deterministic).
 */
import { expect } from 'chai';
import { startGateway } from '../../helpers/gateway.js';
import { startMemcached } from '../../helpers/memcached-server.js';
import { RawConnection, type ExchangeResult } from '../../helpers/raw-connection.js';
import { maskTextReply, render } from '../../helpers/reply-masking.js';
import { TEXT_CASES, type Payload, type Step, type StepContext, type TextCase } from './text-cases.js';

interface Target {
  host: string;
  port: number;
  stop(): Promise<void>;
}

interface StepOutcome {
  /** Rendered, masked reply bytes. */
  reply: string;
  closed: boolean;
  timedOut: boolean;
  /** The connection was already closed, the step was not sent. */
  notSent?: boolean;
}

const SELFTEST = process.env['MEMGATE_DIFF_SELFTEST'] === '1';
const STEP_TIMEOUT_MS = 4000;
const CLOSE_TIMEOUT_MS = 3000;

function renderPayload(p: Payload, max = 300): string {
  const b = typeof p === 'string' ? Buffer.from(p, 'latin1') : p;
  const s = render(b);
  return s.length > max ? `${s.slice(0, max)}…(${b.length} bytes)` : s;
}

/** `STAT <name> <value>\r\n`* `END\r\n` */
function isStatsShaped(reply: string): boolean {
  return /^(STAT [^ \\]+ [^\\]*\\r\\n)+END\\r\\n$/.test(reply);
}

// ───────────────────────────── case runner ─────────────────────────────

interface CaseRun {
  outcomes: StepOutcome[];
  sent: string[];
}

async function runCase(target: Target, tc: TextCase): Promise<CaseRun> {
  const cas = new Map<string, string>();
  const ctx: StepContext = {
    cas(key: string): string {
      const v = cas.get(key);
      if (v === undefined) throw new Error(`case "${tc.name}": no cas seen for key ${key}`);
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
      const payload = resolvePayload(step, ctx);
      sent.push(renderPayload(payload));
      if (step.sleepMs) await new Promise((r) => setTimeout(r, step.sleepMs));
      if (!conn || conn.isClosed) {
        outcomes.push({ reply: '', closed: true, timedOut: false, notSent: true });
        continue;
      }
      const mode = step.mode ?? 'sentinel';
      const res: ExchangeResult = await conn.exchange(payload, {
        mode,
        chunkSize: step.chunkSize,
        chunkDelayMs: step.chunkDelayMs,
        quietMs: step.quietMs,
        timeoutMs: step.timeoutMs ?? (mode === 'close' ? CLOSE_TIMEOUT_MS : STEP_TIMEOUT_MS),
      });
      const parsed = maskTextReply(res.data);
      for (const [k, v] of parsed.cas) cas.set(k, v);
      outcomes.push({ reply: render(parsed.masked), closed: res.closed, timedOut: res.timedOut });
    }
  } finally {
    await conn?.close();
  }
  return { outcomes, sent };
}

function resolvePayload(step: Step, ctx: StepContext): Payload {
  return typeof step.send === 'function' ? step.send(ctx) : step.send;
}

function describeStep(tc: TextCase, run: CaseRun, i: number): string {
  return `case "${tc.name}" step ${i + 1}/${tc.steps.length}: sent ${run.sent[i] ?? '?'}`;
}

function compareRuns(tc: TextCase, expected: CaseRun, actual: CaseRun): void {
  // The corpus must be well-formed for memcached: every sentinel answered in time.
  expected.outcomes.forEach((o, i) => {
    expect(o.timedOut, `corpus error (memcached timed out) in ${describeStep(tc, expected, i)}`).to.equal(false);
  });
  for (let i = 0; i < expected.outcomes.length; i++) {
    const exp = expected.outcomes[i]!;
    const act = actual.outcomes[i]!;
    const where = describeStep(tc, expected, i);
    if (tc.structuralOnly) {
      expect(isStatsShaped(exp.reply), `memcached reply not stats-shaped in ${where}: ${exp.reply}`).to.equal(true);
      expect(isStatsShaped(act.reply), `memgate reply not stats-shaped in ${where}: ${act.reply}`).to.equal(true);
    } else {
      expect(act.reply, `reply bytes differ in ${where}`).to.equal(exp.reply);
    }
    expect({ closed: act.closed, timedOut: act.timedOut, notSent: act.notSent ?? false }, `connection state differs in ${where}`).to.deep.equal({
      closed: exp.closed,
      timedOut: exp.timedOut,
      notSent: exp.notSent ?? false,
    });
  }
}

// ───────────────────────────── servers ─────────────────────────────

async function startSubject(flushDisabled: boolean): Promise<Target> {
  if (SELFTEST) return startMemcached(flushDisabled ? ['-F'] : []);
  return startGateway(flushDisabled ? { config: { flushAll: { enabled: false } } } : {});
}

function defineCases(title: string, selected: readonly TextCase[], flushDisabled: boolean): void {
  describe(title, function () {
    this.timeout(30_000);
    let reference: Target | undefined;
    let subject: Target | undefined;

    before(async function () {
      this.timeout(120_000);
      [reference, subject] = await Promise.all([startMemcached(flushDisabled ? ['-F'] : []), startSubject(flushDisabled)]);
    });

    after(async function () {
      this.timeout(30_000);
      await Promise.all([reference?.stop(), subject?.stop()]);
    });

    for (const tc of selected) {
      it(tc.name, async function () {
        const [expected, actual] = await Promise.all([runCase(reference!, tc), runCase(subject!, tc)]);
        compareRuns(tc, expected, actual);
      });
    }
  });
}

describe(`text protocol differential: memcached 1.6.18 vs ${SELFTEST ? 'memcached (selftest)' : 'memgate'}`, function () {
  // The flush-disabled group is short and has no timing cases; the timing cases stay last.
  defineCases(
    'flush_all disabled',
    TEXT_CASES.filter((c) => c.flushDisabled),
    true,
  );
  defineCases(
    'default settings',
    TEXT_CASES.filter((c) => !c.flushDisabled),
    false,
  );
});
