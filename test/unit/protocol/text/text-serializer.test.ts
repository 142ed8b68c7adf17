import { expect } from 'chai';
import type { Request } from '../../../../src/model/request.js';
import type { Item, Response } from '../../../../src/model/response.js';
import { writeTextResponse } from '../../../../src/protocol/text/text-serializer.js';

const k = (s: string) => Buffer.from(s, 'latin1');
const item = (key: string, value: string, flags = 0, cas = 0n): Item => ({ key: k(key), value: k(value), flags, cas });

/** The reply pieces, each as written (strings as latin1). */
function pieces(request: Request, response: Response): Array<string | Buffer> {
  const out: Array<string | Buffer> = [];
  writeTextResponse(request, response, (piece) => out.push(piece));
  return out;
}

const bytes = (request: Request, response: Response) =>
  Buffer.concat(pieces(request, response).map((p) => (typeof p === 'string' ? k(p) : p))).toString('latin1');

const GET: Request = { kind: 'get', keys: [k('a'), k('b')], withCas: false };
const SET: Request = { kind: 'store', mode: 'set', key: k('a'), flags: 0, exptime: 0, value: k('v'), cas: 0n, noreply: false };
const SET_NOREPLY: Request = { ...SET, noreply: true };
const DELETE: Request = { kind: 'delete', key: k('a'), noreply: false };
const VERSION: Request = { kind: 'version' };

describe('writeTextResponse', () => {
  it('answers gets with a VALUE block per hit, misses left out, then END', () => {
    expect(bytes(GET, { kind: 'hits', items: [item('a', 'hello', 5), null], withCas: false }))
      .to.equal('VALUE a 5 5\r\nhello\r\nEND\r\n');
    expect(bytes(GET, { kind: 'hits', items: [item('a', '', 0, 9n), item('b', 'x', 1, 10n)], withCas: true }))
      .to.equal('VALUE a 0 0 9\r\n\r\nVALUE b 1 1 10\r\nx\r\nEND\r\n');
    expect(bytes(GET, { kind: 'hits', items: [null, null], withCas: false })).to.equal('END\r\n');
  });

  it('passes a value on as the Buffer it was given, uncopied', () => {
    const value = k('payload');
    const written = pieces(GET, { kind: 'hits', items: [{ key: k('a'), value, flags: 0, cas: 0n }], withCas: false });
    expect(written.some((p) => p === value)).to.equal(true);
  });

  it('answers each store, delete, touch and arithmetic outcome with its line', () => {
    const cases: Array<[Response, string]> = [
      [{ kind: 'store', outcome: 'stored' }, 'STORED\r\n'],
      [{ kind: 'store', outcome: 'not_stored' }, 'NOT_STORED\r\n'],
      [{ kind: 'store', outcome: 'exists' }, 'EXISTS\r\n'],
      [{ kind: 'store', outcome: 'not_found' }, 'NOT_FOUND\r\n'],
      [{ kind: 'delete', outcome: 'deleted' }, 'DELETED\r\n'],
      [{ kind: 'delete', outcome: 'exists' }, 'EXISTS\r\n'],
      [{ kind: 'delete', outcome: 'not_found' }, 'NOT_FOUND\r\n'],
      [{ kind: 'touch', outcome: 'touched' }, 'TOUCHED\r\n'],
      [{ kind: 'touch', outcome: 'not_found' }, 'NOT_FOUND\r\n'],
      [{ kind: 'arith', outcome: 'ok', value: 18446744073709551615n }, '18446744073709551615\r\n'],
      [{ kind: 'arith', outcome: 'exists' }, 'EXISTS\r\n'],
      [{ kind: 'arith', outcome: 'not_found' }, 'NOT_FOUND\r\n'],
      [{ kind: 'arith', outcome: 'non_numeric' }, 'CLIENT_ERROR cannot increment or decrement non-numeric value\r\n'],
    ];
    for (const [response, line] of cases) expect(bytes(DELETE, response), JSON.stringify(response, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).to.equal(line);
  });

  it('answers server commands, stats and errors', () => {
    const cases: Array<[Response, string]> = [
      [{ kind: 'ok' }, 'OK\r\n'],
      [{ kind: 'version' , version: '1.6.18' }, 'VERSION 1.6.18\r\n'],
      [{ kind: 'stats', entries: [['pid', '7'], ['uptime', '3']] }, 'STAT pid 7\r\nSTAT uptime 3\r\nEND\r\n'],
      [{ kind: 'stats', entries: [] }, 'END\r\n'],
      [{ kind: 'reset' }, 'RESET\r\n'],
      [{ kind: 'tooLarge' }, 'SERVER_ERROR object too large for cache\r\n'],
      [{ kind: 'forbidden', message: 'flush_all not allowed' }, 'CLIENT_ERROR flush_all not allowed\r\n'],
      [{ kind: 'unknownCommand' }, 'ERROR\r\n'],
      [{ kind: 'clientError', message: 'bad data chunk' }, 'CLIENT_ERROR bad data chunk\r\n'],
      [{ kind: 'serverError', message: 'database unavailable' }, 'SERVER_ERROR database unavailable\r\n'],
      [{ kind: 'quit' }, ''],
    ];
    for (const [response, line] of cases) expect(bytes(VERSION, response), response.kind).to.equal(line);
  });

  it('sends nothing for noreply, errors included, but always answers a get', () => {
    expect(bytes(SET_NOREPLY, { kind: 'store', outcome: 'stored' })).to.equal('');
    expect(bytes(SET_NOREPLY, { kind: 'serverError', message: 'database unavailable' })).to.equal('');
    expect(bytes(SET, { kind: 'serverError', message: 'database unavailable' })).to.equal('SERVER_ERROR database unavailable\r\n');
  });
});
