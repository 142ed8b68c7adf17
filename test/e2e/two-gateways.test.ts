/**
 * Two gateways on ONE table: whatever one does, the other sees, and the atomic commands stay
 * atomic when they race through different gateways (the database is the only shared state).
 */
import { expect } from 'chai';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { RawConnection as Conn } from '../helpers/raw-connection.js';


interface Value {
  key: string;
  flags: number;
  cas?: string;
  data: string;
}

function parseValues(reply: string): Value[] {
  const values: Value[] = [];
  let at = 0;
  for (;;) {
    const eol = reply.indexOf('\r\n', at);
    const line = reply.slice(at, eol);
    const m = /^VALUE (\S+) (\d+) (\d+)(?: (\d+))?$/.exec(line);
    if (!m) {
      expect(line, `reply ${JSON.stringify(reply)}`).to.equal('END');
      return values;
    }
    const bytes = Number(m[3]);
    values.push({ key: m[1]!, flags: Number(m[2]), cas: m[4], data: reply.slice(eol + 2, eol + 2 + bytes) });
    at = eol + 2 + bytes + 2;
  }
}

function setCommand(verb: string, key: string, value: string, exptime = 0, flags = 0, cas?: string): string {
  return `${verb} ${key} ${flags} ${exptime} ${Buffer.byteLength(value, 'latin1')}${cas ? ` ${cas}` : ''}\r\n${value}\r\n`;
}

async function casOf(conn: Conn, key: string): Promise<string> {
  const values = parseValues(await conn.request(`gets ${key}\r\n`));
  expect(values, `gets ${key}`).to.have.length(1);
  return values[0]!.cas!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const ms = (key: string, value: string, flags = '') =>
  `ms ${key} ${Buffer.byteLength(value, 'latin1')}${flags ? ` ${flags}` : ''}\r\n${value}\r\n`;

/** The flags of a meta reply line (HD/VA/EN/... <flags>), by letter. */
function flagsOf(reply: string): Map<string, string> {
  const line = reply.slice(0, reply.indexOf('\r\n'));
  const tokens = line.split(' ').slice(line.startsWith('VA ') ? 2 : 1);
  return new Map(tokens.map((t) => [t[0]!, t.slice(1)]));
}

describe('e2e: two gateways sharing one table', function () {
  this.timeout(60_000);
  let a: RunningGateway;
  let b: RunningGateway;
  let ca: Conn;
  let cb: Conn;
  const opened: Conn[] = [];

  async function open(gateway: RunningGateway): Promise<Conn> {
    const conn = await Conn.open(gateway.port);
    opened.push(conn);
    return conn;
  }

  before(async () => {
    a = await startGateway();
    // B refills its CAS block often, so values from the shared sequence interleave with A's.
    b = await startGateway({ config: { db: { table: a.table, casBlockSize: 7 } } });
    expect(b.table).to.equal(a.table);
    ca = await open(a);
    cb = await open(b);
  });

  after(async () => {
    await Promise.all(opened.map((conn) => conn.close()));
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('a set through one gateway is read, deleted and touched through the other', async () => {
    expect(await ca.request(setCommand('set', 'shared', 'from A', 0, 42))).to.equal('STORED\r\n');
    expect(await cb.request('get shared\r\n')).to.equal('VALUE shared 42 6\r\nfrom A\r\nEND\r\n');
    // the cas is the row's, so both gateways report the same one
    expect(await casOf(cb, 'shared')).to.equal(await casOf(ca, 'shared'));

    expect(await cb.request(setCommand('append', 'shared', ' and B'))).to.equal('STORED\r\n');
    expect(await ca.request('get shared\r\n')).to.equal('VALUE shared 42 12\r\nfrom A and B\r\nEND\r\n');

    expect(await cb.request('delete shared\r\n')).to.equal('DELETED\r\n');
    expect(await ca.request('get shared\r\n')).to.equal('END\r\n');
    expect(await ca.request('delete shared\r\n')).to.equal('NOT_FOUND\r\n');

    // touch through B with a negative exptime: A stops seeing the item at once
    expect(await ca.request(setCommand('set', 'touched', 'x'))).to.equal('STORED\r\n');
    expect(await cb.request('touch touched -1\r\n')).to.equal('TOUCHED\r\n');
    expect(await ca.request('get touched\r\n')).to.equal('END\r\n');
    expect(await ca.request('touch touched 100\r\n')).to.equal('NOT_FOUND\r\n');
  });

  it('cas race: of two gateways sending the same cas at once, exactly one wins (20 rounds)', async () => {
    const key = 'cas-race';
    expect(await ca.request(setCommand('set', key, 'round-0'))).to.equal('STORED\r\n');
    for (let round = 1; round <= 20; round++) {
      const [casA, casB] = await Promise.all([casOf(ca, key), casOf(cb, key)]);
      expect(casB, `round ${round}: both gateways see the same cas`).to.equal(casA);
      await Promise.all([
        ca.send(setCommand('cas', key, `A-${round}`, 0, 0, casA)),
        cb.send(setCommand('cas', key, `B-${round}`, 0, 0, casB)),
      ]);
      const [replyA, replyB] = await Promise.all([ca.reply(), cb.reply()]);
      expect([replyA, replyB].sort(), `round ${round}`).to.deep.equal(['EXISTS\r\n', 'STORED\r\n']);
      const winner = replyA === 'STORED\r\n' ? `A-${round}` : `B-${round}`;
      for (const conn of [ca, cb]) {
        const values = parseValues(await conn.request(`gets ${key}\r\n`));
        expect(values.map((v) => v.data), `round ${round}`).to.deep.equal([winner]);
        expect(values[0]!.cas).to.not.equal(casA);
      }
    }
  });

  it('20 clients x 500 pipelined incr over both gateways end at exactly 10000', async () => {
    const clients = 20;
    const perClient = 500;
    const window = 50;
    expect(await ca.request(setCommand('set', 'hits', '0'))).to.equal('STORED\r\n');
    const conns = await Promise.all(Array.from({ length: clients }, (_, i) => open(i % 2 === 0 ? a : b)));

    const started = Date.now();
    const seen = await Promise.all(conns.map(async (conn, i) => {
      const replies: string[] = [];
      for (let sent = 0; sent < perClient; sent += window) {
        await conn.send('incr hits 1\r\n'.repeat(Math.min(window, perClient - sent)));
        for (let j = 0; j < window && sent + j < perClient; j++) replies.push(await conn.reply(15_000));
      }
      return { i, replies };
    }));
    const elapsed = Date.now() - started;

    const all: number[] = [];
    for (const { i, replies } of seen) {
      expect(replies, `client ${i}`).to.have.length(perClient);
      const numbers = replies.map((reply) => {
        expect(reply, `client ${i}: every reply is a number`).to.match(/^\d+\r\n$/);
        return Number(reply.trim());
      });
      // its own increments are applied in order, so what one client sees only grows
      for (let j = 1; j < numbers.length; j++) expect(numbers[j]!, `client ${i} reply ${j}`).to.be.greaterThan(numbers[j - 1]!);
      all.push(...numbers);
    }
    // every increment happened exactly once: the replies are 1..10000, each once
    all.sort((x, y) => x - y);
    expect(all[0]).to.equal(1);
    expect(all[all.length - 1]).to.equal(clients * perClient);
    expect(new Set(all).size).to.equal(clients * perClient);
    for (const conn of [ca, cb]) expect(await conn.request('get hits\r\n')).to.equal(`VALUE hits 0 5\r\n${clients * perClient}\r\nEND\r\n`);
    console.log(`      (${clients * perClient} incr in ${elapsed} ms)`);
  });

  it('add race: 10 clients adding one key (new, or over an expired row) at once through both gateways, exactly one STORED', async () => {
    const conns = await Promise.all(Array.from({ length: 10 }, (_, i) => open(i % 2 === 0 ? a : b)));
    for (let round = 0; round < 10; round++) {
      const key = `add-race-${round}`;
      // rounds 5..9 race over a row that is still in the table but expired
      if (round >= 5) expect(await ca.request(setCommand('set', key, 'expired', -1))).to.equal('STORED\r\n');
      await Promise.all(conns.map((conn, i) => conn.send(setCommand('add', key, `client-${i}`))));
      const replies = await Promise.all(conns.map((conn) => conn.reply()));
      const stored = replies.flatMap((reply, i) => (reply === 'STORED\r\n' ? [i] : []));
      expect(stored, `round ${round}: ${JSON.stringify(replies)}`).to.have.length(1);
      expect(replies.filter((reply) => reply === 'NOT_STORED\r\n'), `round ${round}`).to.have.length(9);
      for (const conn of [ca, cb]) {
        expect(parseValues(await conn.request(`get ${key}\r\n`)).map((v) => v.data)).to.deep.equal([`client-${stored[0]}`]);
      }
    }
  });

  it('cas values never repeat for a key across delete and re-add through different gateways', async () => {
    const key = 'cas-unique';
    const seen = new Map<string, string>();
    const record = (cas: string, what: string) => {
      expect(seen.has(cas), `cas ${cas} from ${what} repeats ${seen.get(cas)}`).to.equal(false);
      seen.set(cas, what);
    };
    for (let i = 0; i < 60; i++) {
      const [writer, other] = i % 2 === 0 ? [ca, cb] : [cb, ca];
      const name = i % 2 === 0 ? 'A' : 'B';
      expect(await writer.request(setCommand('add', key, `v${i}`)), `add #${i}`).to.equal('STORED\r\n');
      const cas = await casOf(other, key);
      expect(await casOf(writer, key)).to.equal(cas);
      record(cas, `add #${i} via ${name}`);
      expect(await other.request(setCommand('set', key, `w${i}`))).to.equal('STORED\r\n');
      record(await casOf(writer, key), `set #${i}`);
      expect(await other.request(`delete ${key}\r\n`)).to.equal('DELETED\r\n');
      expect(await writer.request(`gets ${key}\r\n`)).to.equal('END\r\n');
    }
    expect(seen.size).to.equal(120);
  });

  it('flush_all through one gateway hides every item for the other', async () => {
    expect(await cb.request(setCommand('set', 'flush-1', 'one'))).to.equal('STORED\r\n');
    expect(await ca.request(setCommand('set', 'flush-2', 'two'))).to.equal('STORED\r\n');
    expect(await ca.request('flush_all\r\n')).to.equal('OK\r\n');
    expect(await cb.request('get flush-1 flush-2\r\n')).to.equal('END\r\n');
    expect(await ca.request('get flush-1 flush-2\r\n')).to.equal('END\r\n');
    // items stored after the flush are unaffected
    expect(await cb.request(setCommand('set', 'flush-1', 'new'))).to.equal('STORED\r\n');
    expect(await ca.request('get flush-1\r\n')).to.equal('VALUE flush-1 0 3\r\nnew\r\nEND\r\n');
  });

  describe('expiry, judged by the one database clock', () => {
    it('exptime 1 through A: after ~2 s both gateways miss; touch through B extends it for both', async () => {
      // exptime n lives between n-1 and n seconds (whole seconds of the database clock), so
      // what must still be seen right after the set uses 2.
      expect(await ca.request(setCommand('set', 'short', 'brief', 1))).to.equal('STORED\r\n');
      expect(await ca.request(setCommand('set', 'short2', 'brief', 2))).to.equal('STORED\r\n');
      expect(await ca.request(setCommand('set', 'extended', 'kept', 2))).to.equal('STORED\r\n');
      expect(await ca.request(setCommand('set', 'shortened', 'cut', 0))).to.equal('STORED\r\n');
      expect(await cb.request('touch extended 100\r\n')).to.equal('TOUCHED\r\n');
      expect(await cb.request('touch shortened 1\r\n')).to.equal('TOUCHED\r\n');
      expect(await cb.request('get short2\r\n')).to.equal('VALUE short2 0 5\r\nbrief\r\nEND\r\n');

      await sleep(2100);
      for (const conn of [ca, cb]) {
        expect(await conn.request('get short\r\n')).to.equal('END\r\n');
        expect(await conn.request('get short2\r\n')).to.equal('END\r\n');
        expect(await conn.request('get shortened\r\n')).to.equal('END\r\n');
        expect(await conn.request('get extended\r\n')).to.equal('VALUE extended 0 4\r\nkept\r\nEND\r\n');
        expect(await conn.request('touch short 100\r\n')).to.equal('NOT_FOUND\r\n');
        expect(await conn.request('incr short 1\r\n')).to.equal('NOT_FOUND\r\n');
      }
      // the expired row is still in the table; add and replace must treat it as absent
      expect(await cb.request(setCommand('replace', 'short', 'nope'))).to.equal('NOT_STORED\r\n');
      expect(await cb.request(setCommand('add', 'short', 'reborn'))).to.equal('STORED\r\n');
      expect(await ca.request('get short\r\n')).to.equal('VALUE short 0 6\r\nreborn\r\nEND\r\n');
      expect(await ca.request(setCommand('add', 'short', 'again'))).to.equal('NOT_STORED\r\n');
    });

    it('an absolute exptime in the past misses on both; add over it is STORED', async () => {
      const past = Math.floor(Date.now() / 1000) - 3600;
      expect(await ca.request(setCommand('set', 'past', 'old', past))).to.equal('STORED\r\n');
      expect(await ca.request('get past\r\n')).to.equal('END\r\n');
      expect(await cb.request('get past\r\n')).to.equal('END\r\n');
      expect(await cb.request(setCommand('add', 'past', 'new'))).to.equal('STORED\r\n');
      expect(await ca.request('get past\r\n')).to.equal('VALUE past 0 3\r\nnew\r\nEND\r\n');

      const future = Math.floor(Date.now() / 1000) + 3600;
      expect(await cb.request(setCommand('set', 'future', 'later', future))).to.equal('STORED\r\n');
      expect(await ca.request('get future\r\n')).to.equal('VALUE future 0 5\r\nlater\r\nEND\r\n');
    });
  });

  // The meta protocol's guarantees, which memcached gets from locking an item in memory, hold
  // when the racers reach the database through different gateways.
  describe('meta protocol', () => {
    /** n connections, alternating between the gateways */
    const clients = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => open(i % 2 === 0 ? a : b)));

    it('ms with C: of 10 clients sending the CAS they all read, exactly one stores (20 rounds)', async () => {
      const racers = await clients(10);
      const key = 'ms-cas-race';
      expect(await ca.request(ms(key, 'round-0'))).to.equal('HD\r\n');
      for (let round = 1; round <= 20; round++) {
        const cas = flagsOf(await cb.request(`mg ${key} c\r\n`)).get('c')!;
        await Promise.all(racers.map((conn, i) => conn.send(ms(key, `r${round}-c${i}`, `C${cas} c`))));
        const replies = await Promise.all(racers.map((conn) => conn.reply()));
        const winners = replies.flatMap((reply, i) => (reply.startsWith('HD ') ? [i] : []));
        expect(winners, `round ${round}: ${JSON.stringify(replies)}`).to.have.length(1);
        expect(replies.filter((reply) => reply === 'EX c0\r\n'), `round ${round}`).to.have.length(9);
        const newCas = flagsOf(replies[winners[0]!]!).get('c')!;
        for (const conn of [ca, cb]) {
          expect(await conn.request(`mg ${key} v c\r\n`)).to.equal(`VA ${`r${round}-c${winners[0]}`.length} c${newCas}\r\nr${round}-c${winners[0]}\r\n`);
        }
      }
    });

    it('ma: 20 clients x 200 pipelined ma N0 v on a missing key: one creates it, every increment counts once', async () => {
      const racers = await clients(20);
      const perClient = 200;
      const window = 50;
      const key = 'ma-race';
      const seen = await Promise.all(racers.map(async (conn) => {
        const values: number[] = [];
        for (let sent = 0; sent < perClient; sent += window) {
          await conn.send(`ma ${key} N0 v\r\n`.repeat(window));
          for (let j = 0; j < window; j++) {
            const reply = await conn.reply(15_000);
            const m = /^VA \d+\r\n(\d+)\r\n$/.exec(reply);
            expect(m, `reply ${JSON.stringify(reply)}`).to.not.equal(null);
            values.push(Number(m![1]));
          }
        }
        return values;
      }));
      const total = racers.length * perClient;
      const all = seen.flat().sort((x, y) => x - y);
      // the creating ma answers the initial value 0 without adding; the others count 1..total-1
      expect(all).to.deep.equal(Array.from({ length: total }, (_, i) => i));
      for (const values of seen) {
        for (let j = 1; j < values.length; j++) expect(values[j]!).to.be.greaterThan(values[j - 1]!);
      }
      for (const conn of [ca, cb]) expect(await conn.request(`mg ${key} v\r\n`)).to.equal(`VA 4\r\n${total - 1}\r\n`);
    });

    it('mg N: of 10 clients reading a missing key at once, exactly one wins; all see one item (10 rounds)', async () => {
      const racers = await clients(10);
      for (let round = 0; round < 10; round++) {
        const key = `vivify-${round}`;
        // rounds 5..9 race over a row that is still in the table but expired
        if (round >= 5) expect(await ca.request(ms(key, 'expired', 'T-1'))).to.equal('HD\r\n');
        await Promise.all(racers.map((conn) => conn.send(`mg ${key} N30 s c v\r\n`)));
        const replies = await Promise.all(racers.map((conn) => conn.reply()));
        const flags = replies.map(flagsOf);
        expect(flags.filter((f) => f.has('W')), `round ${round}: ${JSON.stringify(replies)}`).to.have.length(1);
        expect(flags.filter((f) => f.has('Z')), `round ${round}`).to.have.length(9);
        expect(new Set(flags.map((f) => f.get('c'))).size, `round ${round}: one item`).to.equal(1);
        for (const reply of replies) expect(reply).to.match(/^VA 0 s0 c\d+ [WZ]\r\n\r\n$/);
      }
    });

    it('mg R and a stale item: exactly one of 10 clients gets the recache token', async () => {
      const racers = await clients(10);
      expect(await ca.request(ms('recache', 'old', 'T10'))).to.equal('HD\r\n');
      await Promise.all(racers.map((conn) => conn.send(`mg recache R30 v\r\n`)));
      let flags = (await Promise.all(racers.map((conn) => conn.reply()))).map(flagsOf);
      expect(flags.filter((f) => f.has('W'))).to.have.length(1);
      expect(flags.filter((f) => f.has('Z'))).to.have.length(9);

      expect(await ca.request(ms('stale', 'old'))).to.equal('HD\r\n');
      expect(await cb.request('md stale I\r\n')).to.equal('HD\r\n');
      await Promise.all(racers.map((conn) => conn.send(`mg stale v\r\n`)));
      flags = (await Promise.all(racers.map((conn) => conn.reply()))).map(flagsOf);
      expect(flags.every((f) => f.has('X')), 'every reader sees it stale').to.equal(true);
      expect(flags.filter((f) => f.has('W'))).to.have.length(1);
      expect(flags.filter((f) => f.has('Z'))).to.have.length(9);
      // the winner's set clears the stale mark for everyone
      const cas = flagsOf(await cb.request('mg stale c\r\n')).get('c')!;
      expect(await ca.request(ms('stale', 'new', `C${cas}`))).to.equal('HD\r\n');
      expect(await cb.request('mg stale v\r\n')).to.equal('VA 3\r\nnew\r\n');
    });

    it('what one gateway records about an item (base64 key, stale, token, hits) the other reports', async () => {
      const key = Buffer.from([0x00, 0x20, 0x0d, 0x0a, 0xff]).toString('base64');
      expect(await ca.request(ms(key, 'bin', 'b k'))).to.equal(`HD k${key} b\r\n`);
      expect(await cb.request(`mg ${key} b k v\r\n`)).to.equal(`VA 3 k${key} b\r\nbin\r\n`);
      expect(await cb.request(`me ${key} b\r\n`)).to.match(new RegExp(`^ME ${key.replace(/[+/]/g, '\\$&')} exp=-1 la=\\d+ cas=\\d+ fetch=yes `));

      expect(await ca.request(ms('hit-marks', 'x'))).to.equal('HD\r\n');
      expect(await ca.request('mg hit-marks h\r\n')).to.equal('HD h0\r\n');
      expect(await cb.request('mg hit-marks h\r\n')).to.equal('HD h1\r\n');
      // a plain get is recorded shortly after it is answered
      expect(await ca.request(ms('hit-marks', 'y'))).to.equal('HD\r\n');
      expect(await ca.request('get hit-marks\r\n')).to.equal('VALUE hit-marks 0 1\r\ny\r\nEND\r\n');
      await sleep(200);
      expect(await cb.request('mg hit-marks h\r\n')).to.equal('HD h1\r\n');

      expect(await ca.request('md hit-marks I T30\r\n')).to.equal('HD\r\n');
      expect(await cb.request('mg hit-marks t v\r\n')).to.match(/^VA 1 t(30|29) X W\r\ny\r\n$/);
      expect(await ca.request('mg hit-marks v\r\n')).to.equal('VA 1 Z X\r\ny\r\n');
    });
  });
});
