import { expect } from 'chai';
import type { ParseEvent } from '../../../../src/protocol/parse-events.js';
import { TextParser } from '../../../../src/protocol/text/text-parser.js';
import { ITEM_SIZE_MAX, check, parseChunks, reply, req } from '../../../helpers/text-parse.js';

const store = (mode: string, key: string, value: string, extra: Record<string, unknown> = {}) =>
  req({ kind: 'store', mode, key, flags: 0, exptime: 0, value, cas: '0n', noreply: false, ...extra });

describe('TextParser', () => {
  describe('storage commands', () => {
    it('reads a set with a binary-safe value containing \\r\\n and NUL', () => {
      check('set k 5 100 6\r\na\r\nb\0c\r\n', [store('set', 'k', 'a\r\nb\0c', { flags: 5, exptime: 100 })]);
    });

    it('reads zero-length values and every storage verb', () => {
      check('add a 0 0 0\r\n\r\nreplace b 1 2 1\r\nx\r\nappend c 0 0 1\r\ny\r\nprepend d 0 0 1\r\nz\r\n', [
        store('add', 'a', ''),
        store('replace', 'b', 'x', { flags: 1, exptime: 2 }),
        store('append', 'c', 'y'),
        store('prepend', 'd', 'z'),
      ]);
    });

    it('reads cas with its unique and noreply', () => {
      check('cas k 0 0 1 18446744073709551615 noreply\r\nv\r\n', [
        store('cas', 'k', 'v', { cas: '18446744073709551615n', noreply: true }),
      ]);
    });

    it('wraps flags and exptime the way memcached truncates them', () => {
      check('set k 4294967296 4294967297 1\r\nv\r\n', [store('set', 'k', 'v', { flags: 0, exptime: 1 })]);
    });

    it('answers a bad data chunk and parses what follows as the next command', () => {
      check('set k 0 0 1\r\nabc\r\nget k\r\n', [
        reply('CLIENT_ERROR bad data chunk'),
        reply('ERROR'),
        req({ kind: 'get', keys: ['k'], withCas: false }),
      ]);
    });

    it('stays silent on a bad data chunk with noreply', () => {
      check('set k 0 0 1 noreply\r\nabc\r\n', [reply('ERROR')]);
    });

    it('swallows the value of a too-large item and keeps the stream in sync', () => {
      const value = 'x'.repeat(2000);
      check(`set k 0 0 2000\r\n${value}\r\nget k\r\n`, [
        req({ kind: 'tooLarge', mode: 'set', key: 'k', noreply: false }),
        req({ kind: 'get', keys: ['k'], withCas: false }),
      ], 1024);
    });

    it('rejects a bad header without swallowing, like memcached', () => {
      check('set k abc 0 1\r\nx\r\n', [reply('CLIENT_ERROR bad command line format'), reply('ERROR')]);
      check('set k 0 0 -1\r\n', [reply('CLIENT_ERROR bad command line format')]);
      check('set k 0 0 1 noreply extra\r\n', [reply('ERROR')]);
      check('set k 0 0\r\n', [reply('ERROR')]);
    });

    it('rejects keys over 250 bytes and accepts 250', () => {
      const ok = 'k'.repeat(250);
      check(`set ${ok} 0 0 1\r\nv\r\n`, [store('set', ok, 'v')]);
      check(`set ${ok}k 0 0 1\r\nv\r\n`, [reply('CLIENT_ERROR bad command line format'), reply('ERROR')]);
    });
  });

  describe('retrieval commands', () => {
    it('reads get/gets/gat/gats', () => {
      check('get a b a\r\ngets a\r\ngat 10 a b\r\ngats -1 c\r\n', [
        req({ kind: 'get', keys: ['a', 'b', 'a'], withCas: false }),
        req({ kind: 'get', keys: ['a'], withCas: true }),
        req({ kind: 'get', keys: ['a', 'b'], withCas: false, touchExptime: 10 }),
        req({ kind: 'get', keys: ['c'], withCas: true, touchExptime: -1 }),
      ]);
    });

    it('reads keys beyond memcached\'s 24-token window', () => {
      const keys = Array.from({ length: 40 }, (_, i) => `key${i}`);
      check(`get ${keys.join(' ')}\r\n`, [req({ kind: 'get', keys, withCas: false })]);
    });

    it('answers ERROR for a get without keys and CLIENT_ERROR for a bad gat exptime', () => {
      check('get\r\ngat abc k\r\n', [reply('ERROR'), reply('CLIENT_ERROR invalid exptime argument')]);
    });

    it('answers a get with a too long key with an error, after looking up the keys before it', () => {
      check(`get a ${'k'.repeat(251)} b\r\ngat 5 ${'k'.repeat(251)}\r\n`, [
        req({ kind: 'get', keys: ['a'], withCas: false, failLine: 'CLIENT_ERROR bad command line format' }),
        reply('CLIENT_ERROR bad command line format'),
      ]);
    });

    it('accepts lines ending in a bare \\n and collapses repeated spaces', () => {
      check('get  a   b\n', [req({ kind: 'get', keys: ['a', 'b'], withCas: false })]);
    });
  });

  describe('other commands', () => {
    it('reads delete in the forms memcached allows', () => {
      check('delete a\r\ndelete a 0\r\ndelete a noreply\r\ndelete a 0 noreply\r\ndelete a 5\r\n', [
        req({ kind: 'delete', key: 'a', noreply: false }),
        req({ kind: 'delete', key: 'a', noreply: false }),
        req({ kind: 'delete', key: 'a', noreply: true }),
        req({ kind: 'delete', key: 'a', noreply: true }),
        reply('CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]'),
      ]);
    });

    it('reads incr/decr and rejects bad deltas', () => {
      check('incr a 5\r\ndecr a 18446744073709551615 noreply\r\nincr a -1\r\nincr a x noreply\r\n', [
        req({ kind: 'arith', incr: true, key: 'a', delta: '5n', noreply: false }),
        req({ kind: 'arith', incr: false, key: 'a', delta: '18446744073709551615n', noreply: true }),
        reply('CLIENT_ERROR invalid numeric delta argument'),
      ]);
    });

    it('reads touch, flush_all, verbosity, version, quit and stats', () => {
      check('touch a 10\r\ntouch a x\r\nflush_all\r\nflush_all 5 noreply\r\nflush_all x\r\nverbosity 1\r\nversion\r\nstats settings\r\nquit\r\n', [
        req({ kind: 'touch', key: 'a', exptime: 10, noreply: false }),
        reply('CLIENT_ERROR invalid exptime argument'),
        req({ kind: 'flush', delay: 0, noreply: false }),
        req({ kind: 'flush', delay: 5, noreply: true }),
        req({ kind: 'flush', delay: null, noreply: false }),
        req({ kind: 'verbosity', level: 1, noreply: false }),
        req({ kind: 'version' }),
        req({ kind: 'stats', group: 'settings' }),
        req({ kind: 'quit' }),
      ]);
    });

    it('refuses shutdown like memcached without -A', () => {
      check('shutdown\r\n', [reply('ERROR: shutdown not enabled')]);
    });

    it('answers ERROR for unknown commands and empty lines', () => {
      check('bogus\r\n\r\nx\r\n', [reply('ERROR'), reply('ERROR'), reply('ERROR')]);
    });

    it('hangs up on HTTP request lines and ignores everything after', () => {
      check('GET / HTTP/1.1\r\nget a\r\n', [{ type: 'close' }]);
      check('POST /x HTTP/1.0\r\n', [{ type: 'close' }]);
    });

    it('answers ERROR instead when the verb starts like one of memcached\'s own', () => {
      check('trace / HTTP/1.1\r\ngx / HTTP/1.1\r\n', [reply('ERROR'), reply('ERROR')]);
    });

    it('reads nothing after quit', () => {
      check('quit\r\nset k 0 0 1\r\nv\r\n', [req({ kind: 'quit' })]);
    });

    it('reads the value of a meta set as a value, never as a command', () => {
      check('ms k 9\r\nflush_all\r\nmn\r\n', [
        req({ kind: 'store', mode: 'set', key: 'k', flags: 0, exptime: 0, cas: '0n', noreply: false, value: 'flush_all' }, {
          returns: [], key: 'k', base64: false, quiet: false, value: false, opaqueTooLong: false,
        }),
        reply('MN'),
      ]);
    });
  });

  describe('line length', () => {
    it('hangs up on a line over 2048 bytes without a newline', () => {
      expect(parseChunks([Buffer.from(`set ${'x'.repeat(3000)}`)])).to.deep.equal([{ type: 'close' }]);
    });

    it('reads a multi-get of 200,000 keys sent in 64 KB chunks', () => {
      const keys = Array.from({ length: 200000 }, (_, i) => `k${i}`);
      const line = Buffer.from(`get ${keys.join(' ')}\r\n`);
      const chunks: Buffer[] = [];
      for (let i = 0; i < line.length; i += 65536) chunks.push(line.subarray(i, i + 65536));
      const events = parseChunks(chunks) as Array<{ request: { keys: string[] } }>;
      expect(events).to.have.length(1);
      expect(events[0]!.request.keys).to.deep.equal(keys);
    });

    it('hangs up on a multi-get line that grows past 32 MiB without a newline', () => {
      const parser = new TextParser({ itemSizeMax: ITEM_SIZE_MAX });
      const events: ParseEvent[] = [];
      parser.feed(Buffer.from('get '), (e) => events.push(e));
      const chunk = Buffer.alloc(1024 * 1024, 'k ');
      for (let i = 0; i < 33 && events.length === 0; i++) parser.feed(chunk, (e) => events.push(e));
      expect(events).to.deep.equal([{ type: 'close' }]);
    });

    it('lets a long multi-get line keep growing', () => {
      const keys = Array.from({ length: 400 }, (_, i) => `key-number-${i}`);
      const line = Buffer.from(`get ${keys.join(' ')}\r\n`);
      const chunks = [line.subarray(0, 3000), line.subarray(3000)];
      expect(parseChunks(chunks)).to.deep.equal([{ type: 'request', request: { kind: 'get', keys, withCas: false } }]);
    });
  });
});
