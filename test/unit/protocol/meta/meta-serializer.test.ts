import { expect } from 'chai';
import type { Request } from '../../../../src/model/request.js';
import type { MetaItem, Response } from '../../../../src/model/response.js';
import type { MetaFrame } from '../../../../src/protocol/meta/meta-frame.js';
import { writeMetaResponse } from '../../../../src/protocol/meta/meta-serializer.js';

const k = (s: string) => Buffer.from(s, 'latin1');

/** A meta frame as the parser builds it: flags that return something, in request order. */
const frame = (returns: string[] = [], extra: Partial<MetaFrame> = {}): MetaFrame => ({
  returns, key: k('foo'), base64: false, quiet: false, value: false, opaqueTooLong: false, ...extra,
});

const metaItem = (extra: Partial<MetaItem> = {}): MetaItem => ({
  key: k('foo'), value: k('bar'), flags: 7, cas: 42n, ttl: 100, idleSeconds: 3, hitBefore: true,
  stale: false, tokenSent: false, won: false, binaryKey: false, ...extra,
});

function bytes(request: Request, f: MetaFrame, response: Response): string {
  const out: Buffer[] = [];
  writeMetaResponse(request, f, response, (piece) => out.push(typeof piece === 'string' ? k(piece) : piece));
  return Buffer.concat(out).toString('latin1');
}

const MG: Request = { kind: 'metaGet', key: k('foo'), steps: [], noBump: false, accessInfo: false, noreply: false };
const MS: Request = { kind: 'store', mode: 'set', key: k('foo'), flags: 0, exptime: 0, value: k('v'), cas: 0n, noreply: false };
const MD: Request = { kind: 'delete', key: k('foo'), noreply: false };
const MA: Request = { kind: 'arith', incr: true, key: k('foo'), delta: 1n, noreply: false };

describe('writeMetaResponse', () => {
  it('answers mg hits with VA and the value, or HD, with the returned flags in request order', () => {
    expect(bytes(MG, frame(['s', 'k', 'c', 'f', 't', 'l', 'h', 'Oabc'], { value: true }), { kind: 'metaGet', item: metaItem() }))
      .to.equal('VA 3 s3 kfoo c42 f7 t100 l3 h1 Oabc\r\nbar\r\n');
    expect(bytes(MG, frame(['Oxy', 'k']), { kind: 'metaGet', item: metaItem() })).to.equal('HD Oxy kfoo\r\n');
    expect(bytes(MG, frame(['k'], { base64: true }), { kind: 'metaGet', item: metaItem({ binaryKey: true }) })).to.equal('HD kZm9v b\r\n');
    expect(bytes(MG, frame([], { value: true }), { kind: 'metaGet', item: metaItem({ value: k('') }) })).to.equal('VA 0\r\n\r\n');
  });

  it('appends Z, X and W in that order', () => {
    expect(bytes(MG, frame(), { kind: 'metaGet', item: metaItem({ tokenSent: true, stale: true, won: true }) })).to.equal('HD Z X W\r\n');
    expect(bytes(MG, frame(), { kind: 'metaGet', item: metaItem({ won: true }) })).to.equal('HD W\r\n');
  });

  it('answers a miss EN with only the key and opaque, or nothing when quiet; a long opaque is an error', () => {
    expect(bytes(MG, frame(['k', 'c', 'O1']), { kind: 'metaGet', item: null })).to.equal('EN kfoo O1\r\n');
    expect(bytes(MG, frame(['k'], { quiet: true }), { kind: 'metaGet', item: null })).to.equal('');
    expect(bytes(MG, frame([], { opaqueTooLong: true }), { kind: 'metaGet', item: metaItem() })).to.equal('CLIENT_ERROR opaque token too long\r\n');
  });

  it('answers ms with HD, NS, EX or NF; quiet leaves out only HD', () => {
    expect(bytes(MS, frame(['c', 'k']), { kind: 'store', outcome: 'stored', cas: 9n })).to.equal('HD c9 kfoo\r\n');
    expect(bytes(MS, frame(['c']), { kind: 'store', outcome: 'not_stored' })).to.equal('NS c0\r\n');
    expect(bytes(MS, frame(), { kind: 'store', outcome: 'exists' })).to.equal('EX\r\n');
    expect(bytes(MS, frame(), { kind: 'store', outcome: 'not_found' })).to.equal('NF\r\n');
    expect(bytes(MS, frame([], { quiet: true }), { kind: 'store', outcome: 'stored', cas: 9n })).to.equal('');
    expect(bytes(MS, frame([], { quiet: true }), { kind: 'store', outcome: 'not_stored' })).to.equal('NS\r\n');
  });

  it('answers md with HD, EX or NF; quiet leaves out only HD', () => {
    expect(bytes(MD, frame(['Oq']), { kind: 'delete', outcome: 'deleted' })).to.equal('HD Oq\r\n');
    expect(bytes(MD, frame(), { kind: 'delete', outcome: 'exists' })).to.equal('EX\r\n');
    expect(bytes(MD, frame(), { kind: 'delete', outcome: 'not_found' })).to.equal('NF\r\n');
    expect(bytes(MD, frame([], { quiet: true }), { kind: 'delete', outcome: 'deleted' })).to.equal('');
  });

  it('answers ma with the value (v) or HD, NF, EX, or the non-numeric error; a created counter even when quiet', () => {
    expect(bytes(MA, frame(['c', 't'], { value: true }), { kind: 'arith', outcome: 'ok', value: 12n, cas: 5n, ttl: -1 })).to.equal('VA 2 c5 t-1\r\n12\r\n');
    expect(bytes(MA, frame(), { kind: 'arith', outcome: 'ok', value: 12n })).to.equal('HD\r\n');
    expect(bytes(MA, frame([], { quiet: true }), { kind: 'arith', outcome: 'ok', value: 12n })).to.equal('');
    expect(bytes(MA, frame([], { quiet: true }), { kind: 'arith', outcome: 'ok', value: 0n, created: true })).to.equal('HD\r\n');
    expect(bytes(MA, frame(['k']), { kind: 'arith', outcome: 'not_found' })).to.equal('NF kfoo\r\n');
    expect(bytes(MA, frame(), { kind: 'arith', outcome: 'exists' })).to.equal('EX\r\n');
    expect(bytes(MA, frame(), { kind: 'arith', outcome: 'non_numeric' })).to.equal('CLIENT_ERROR cannot increment or decrement non-numeric value\r\n');
  });

  it('answers me with ME and the item, or EN', () => {
    const debugItem = { key: k('foo'), binaryKey: false, exp: -1, idleSeconds: 4, cas: 3n, fetched: true, size: 70 };
    expect(bytes({ kind: 'metaDebug', key: k('foo') }, frame(), { kind: 'metaDebug', item: debugItem }))
      .to.equal('ME foo exp=-1 la=4 cas=3 fetch=yes cls=1 size=70\r\n');
    expect(bytes({ kind: 'metaDebug', key: k('foo') }, frame(), { kind: 'metaDebug', item: null })).to.equal('EN\r\n');
  });

  it('sends errors even when quiet, and anything else as the text protocol does', () => {
    const quiet = frame([], { quiet: true });
    expect(bytes(MS, quiet, { kind: 'serverError', message: 'database unavailable' })).to.equal('SERVER_ERROR database unavailable\r\n');
    expect(bytes({ ...MS, noreply: true }, quiet, { kind: 'clientError', message: 'bad data chunk' })).to.equal('CLIENT_ERROR bad data chunk\r\n');
    expect(bytes({ kind: 'version' }, frame(), { kind: 'version', version: '1.6.18' })).to.equal('VERSION 1.6.18\r\n');
  });
});
