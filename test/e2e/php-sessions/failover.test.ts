/**
 * Failover: while PHP processes keep using one shared session id and a set of distinct
 * sessions, one of two gateways (on one table) is SIGKILLed and later restarted on its port.
 * Requests in flight when it dies may fail; the driver retries them (a user reloading the
 * page). No increment PHP reported as written may be lost, before or after the restart.
 *
 * Deployments measured (php-memcached defaults, binary protocol):
 *  - a TCP load balancer in front of the gateways, session.save_path = the balancer;
 *  - one gateway per web host, session.save_path = the host's own gateway, while users move
 *    between hosts.
 * Both with php-memcached's CLI defaults, whose locks never expire: the locks of the killed
 * gateway's requests are freed by the other gateway once the killed one's heartbeat is 5 s old
 * (locks.test.ts times that).
 */
import { expect } from 'chai';
import { freshTableName, getTestDatabaseUrl } from '../../helpers/database.js';
import {
  emptyTally,
  incrementWithRetries,
  markersOf,
  memcachedSettings,
  newSessionId,
  requirePhpExtensions,
  runBounded,
  startGateways,
  TcpBalancer,
  type GatewayPair,
  type GatewayProcess,
  type IncrementTally,
  type PhpSettings,
} from './harness.js';
import { CONCURRENCY, readSession } from './workloads.js';

const REQUESTS = 180;
const DISTINCT_SESSIONS = 10;

interface FailoverReport {
  runs: number;
  errors: number;
  warned: number;
  starved: number;
}

describe('e2e: PHP sessions while a gateway is SIGKILLed and restarted', function () {
  this.timeout(90_000);
  let pair: GatewayPair;
  let victim: GatewayProcess;
  let balancer: TcpBalancer;

  before(async function () {
    this.timeout(60_000);
    await requirePhpExtensions();
    pair = await startGateways({ dbUrl: await getTestDatabaseUrl(), table: freshTableName('php_failover') });
    victim = pair.gateways[0]!;
    balancer = new TcpBalancer(pair.ports);
    await balancer.listen();
  });

  afterEach(async () => {
    if (!victim.running) await victim.start();
  });

  after(async () => {
    await balancer?.close();
    await pair?.stop();
  });

  /**
   * REQUESTS increments, half on one shared session id, half spread over DISTINCT_SESSIONS,
   * CONCURRENCY at a time; the victim is killed after a third and restarted after two thirds.
   */
  async function failoverRun(label: string, settingsFor: (request: number, attempt: number) => PhpSettings, readSettings: PhpSettings): Promise<FailoverReport> {
    const shared = newSessionId('fshared');
    const distinct = Array.from({ length: DISTINCT_SESSIONS }, () => newSessionId('fmany'));
    const sids = Array.from({ length: REQUESTS }, (_, i) => (i % 2 === 0 ? shared : distinct[(i >> 1) % DISTINCT_SESSIONS]!));
    const tallies = new Map<string, IncrementTally>([shared, ...distinct].map((sid) => [sid, emptyTally()]));
    let finished = 0;
    const events: string[] = [];
    await runBounded(
      sids.map((sid, i) => async () => {
        await incrementWithRetries((attempt) => settingsFor(i, attempt), sid, `r${i}`, tallies.get(sid)!, 15);
        finished += 1;
        if (finished === Math.floor(REQUESTS / 3)) {
          events.push(`killed after ${finished}`);
          await victim.kill('SIGKILL');
        } else if (finished === Math.floor((2 * REQUESTS) / 3)) {
          events.push(`restarted after ${finished}`);
          await victim.start();
        }
      }),
      CONCURRENCY,
    );
    expect(events, 'the victim was killed and restarted during the run').to.deep.equal([
      `killed after ${Math.floor(REQUESTS / 3)}`,
      `restarted after ${Math.floor((2 * REQUESTS) / 3)}`,
    ]);

    const report: FailoverReport = { runs: 0, errors: 0, warned: 0, starved: 0 };
    const samples: string[] = [];
    for (const [sid, tally] of tallies) {
      report.runs += tally.attempts;
      report.errors += tally.errors;
      report.warned += tally.warned;
      report.starved += tally.starved;
      samples.push(...tally.errorSamples);
      expect(tally.gaveUp, `${sid}: requests that never got through; ${tally.errorSamples.join('\n')}`).to.equal(0);
      // After the restart, through the deployment's own path.
      const session = await readSession(readSettings, sid);
      const markers = markersOf(session);
      expect(new Set(markers).size, `${sid}: no marker twice`).to.equal(markers.length);
      expect(session.n, `${sid}: the counter matches the markers`).to.equal(markers.length);
      const missing = tally.committed.filter((m) => !markers.includes(m));
      expect(missing, `${sid}: increments PHP reported as written but missing`).to.deep.equal([]);
      const unexplained = markers.filter((m) => !tally.committed.includes(m) && !tally.uncertain.includes(m));
      expect(unexplained, `${sid}: markers from requests that never started`).to.deep.equal([]);
    }
    console.log(
      `      ${label}: ${REQUESTS} requests in ${report.runs} PHP runs; ${report.errors} failed, ` +
        `${report.warned} written with warnings, ${report.starved} lock starvations (all retried)`,
    );
    for (const sample of new Set(samples.map((s) => s.replace(/\(0x[0-9a-f]+\)|\d+/g, 'N').slice(0, 160)))) console.log(`        e.g. ${sample}`);
    return report;
  }

  it('through a TCP load balancer: only requests in flight at the kill fail, nothing is lost', async () => {
    const settings = memcachedSettings([balancer.port]);
    const report = await failoverRun('load balancer', () => settings, settings);
    // At most the requests in flight when the gateway died (and those waiting for their locks).
    expect(report.errors, 'failed requests').to.be.at.most(2 * CONCURRENCY);
  });

  it('one gateway per web host: the dead host\'s requests fail, the other host serves every session, nothing is lost', async () => {
    const hosts = pair.ports.map((port) => memcachedSettings([port]));
    // A user's requests alternate between the hosts; a failed one is retried on the other host.
    const report = await failoverRun('gateway per web host', (request, attempt) => hosts[(request + attempt) % 2]!, hosts[0]!);
    expect(report.errors, 'requests sent to the dead host failed').to.be.above(0);
  });
});
