import { check, reply, req } from '../../../helpers/text-parse.js';

// Meta commands through the text parser, each input parsed whole, byte by byte and split at
// every offset. The expected errors are memcached 1.6.18's (proto_text.c), which the
// differential test also checks against the real server.

const frame = (extra: Record<string, unknown> = {}) => ({
  returns: [], key: 'k', base64: false, quiet: false, value: false, opaqueTooLong: false, ...extra,
});
const mg = (extra: Record<string, unknown> = {}) =>
  ({ kind: 'metaGet', key: 'k', steps: [], noBump: false, accessInfo: false, noreply: false, ...extra });
const ms = (value: string, extra: Record<string, unknown> = {}) =>
  ({ kind: 'store', mode: 'set', key: 'k', flags: 0, exptime: 0, cas: '0n', noreply: false, ...extra, value });

describe('meta commands in the text parser', () => {
  describe('mg', () => {
    it('keeps returned flags in request order and the steps in the order they act', () => {
      check('mg k s T30 v t Oab N5 k R10 c f h l u q\r\n', [req(
        mg({
          steps: [
            { type: 'touch', exptime: 30 }, { type: 'ttl' }, { type: 'vivify', exptime: 5 }, { type: 'recache', exptime: 10 },
          ],
          noBump: true,
          accessInfo: true,
          noreply: true,
        }),
        frame({ returns: ['s', 't', 'Oab', 'k', 'c', 'f', 'h', 'l'], quiet: true, value: true }),
      )]);
    });

    it('ignores P and L (proxy hints), and reads a key alone', () => {
      check('mg k P Lfoo/\r\nmg k\r\n', [req(mg(), frame()), req(mg(), frame())]);
    });

    it('marks where an opaque token too long to echo fails the steps, keeping an N after it', () => {
      check(`mg k T1 O${'o'.repeat(32)} N1 t\r\n`, [req(
        mg({ steps: [{ type: 'touch', exptime: 1 }, { type: 'fail' }, { type: 'vivify', exptime: 1 }, { type: 'ttl' }] }),
        frame({ returns: [`O${'o'.repeat(32)}`, 't'], opaqueTooLong: true }),
      )]);
    });

    it('rejects duplicate and unknown flags at once, and names the last bad argument otherwise', () => {
      check('mg k v v\r\nmg k x\r\nmg k \xe9\r\nmg k Tx\r\nmg k Tx zz\r\nmg k zz Tx\r\nmg k b Nx\r\nmg k Fx\r\nmg k Nx Fx\r\nmg k MSS\r\n', [
        reply('CLIENT_ERROR duplicate flag'),
        reply('CLIENT_ERROR invalid flag'),
        reply('CLIENT_ERROR duplicate flag'),
        reply('CLIENT_ERROR bad token in command line format'),
        reply('CLIENT_ERROR invalid flag'),
        reply('CLIENT_ERROR invalid flag'),
        reply('CLIENT_ERROR bad token in command line format'),
        reply('CLIENT_ERROR bad command line format'),
        reply('CLIENT_ERROR bad token in command line format'),
        reply('CLIENT_ERROR incorrect length for M token'),
      ]);
    });

    it('answers ERROR without a key, and checks key length and token count first', () => {
      const many = Array.from({ length: 18 }, (_, i) => `O${i}`).join(' ');
      check(`mg\r\nmg ${'k'.repeat(251)} zz\r\nmg k ${many}\r\n`, [
        reply('ERROR'),
        reply('CLIENT_ERROR bad command line format'),
        reply('CLIENT_ERROR options flags are too long'),
      ]);
    });

    it('decodes base64 keys as memcached does', () => {
      check('mg Zm9v b k\r\nmg Zm!9v b\r\nmg YQ== b\r\nmg YQ==Zm9v b\r\nmg Zm9 b\r\nmg A=== b\r\n', [
        req(mg({ key: 'foo' }), frame({ key: 'foo', base64: true, returns: ['k'] })),
        req(mg({ key: 'foo' }), frame({ key: 'foo', base64: true })),
        req(mg({ key: 'a' }), frame({ key: 'a', base64: true })),
        req(mg({ key: 'a' }), frame({ key: 'a', base64: true })),
        reply('CLIENT_ERROR error decoding key'),
        reply('CLIENT_ERROR error decoding key'),
      ]);
    });
  });

  describe('ms', () => {
    it('reads the data block, binary-safe, with every setting', () => {
      check('ms k 5 F7 T30 c k Oop q\r\na\r\nb\0\r\n', [req(
        ms('a\r\nb\0', { flags: 7, exptime: 30, noreply: true }),
        frame({ returns: ['c', 'k', 'Oop'], quiet: true }),
      )]);
    });

    it('maps modes, and a CAS to cas for set and replace only', () => {
      check('ms k 0 ME C5\r\n\r\nms k 0 MR C5 I\r\n\r\nms k 0 C5 I b\r\n\r\nms k 0 MA C5\r\n\r\n', [
        req(ms('', { mode: 'add', cas: '5n' }), frame()),
        req(ms('', { mode: 'cas', cas: '5n', invalidate: true }), frame()),
        reply('CLIENT_ERROR error decoding key'),
        req(ms('', { mode: 'append', cas: '5n' }), frame()),
      ]);
    });

    it('stores under a decoded base64 key and remembers that it was one', () => {
      check('ms Zm9v 1 b\r\nx\r\n', [req(ms('x', { key: 'foo', binaryKey: true }), frame({ key: 'foo', base64: true }))]);
    });

    it('skips the data block of a refused ms, then answers, and reads on in sync', () => {
      check(`ms k 3 zz\r\nabc\r\nmn\r\nms k 3 MX q\r\nabc\r\nmn\r\nms k 3 O${'o'.repeat(32)}\r\nabc\r\nmn\r\n`, [
        reply('CLIENT_ERROR invalid flag'),
        reply('MN'),
        reply('CLIENT_ERROR invalid mode for ms M token'),
        reply('MN'),
        reply('CLIENT_ERROR opaque token too long'),
        reply('MN'),
      ]);
    });

    it('reads the data block as commands when the length never parsed', () => {
      check(`ms k\r\nmn\r\nms k x\r\nmn\r\nms ${'k'.repeat(251)} 2\r\nmn\r\n`, [
        reply('CLIENT_ERROR bad command line format'),
        reply('MN'),
        reply('CLIENT_ERROR bad command line format'),
        reply('MN'),
        reply('CLIENT_ERROR bad command line format'),
        reply('MN'),
      ]);
    });

    it('answers a bad data chunk even when quiet', () => {
      check('ms k 1 q\r\nabc\r\n', [reply('CLIENT_ERROR bad data chunk'), reply('ERROR')]);
    });

    it('refuses a value over the item size after skipping it, dropping the old item', () => {
      check(`ms k 100 q\r\n${'v'.repeat(100)}\r\nmn\r\n`, [
        req({ kind: 'tooLarge', mode: 'set', key: 'k', noreply: false }),
        reply('MN'),
      ], 150);
    });
  });

  describe('md, ma, me, mn', () => {
    it('reads md with a CAS and an invalidation', () => {
      check('md k C9 I T30 q k\r\nmd k\r\n', [
        req({ kind: 'delete', key: 'k', cas: '9n', invalidate: { exptime: 30 }, noreply: true }, frame({ returns: ['k'], quiet: true })),
        req({ kind: 'delete', key: 'k', noreply: false }, frame()),
      ]);
    });

    it('answers md errors before anything happens', () => {
      check(`md k zz\r\nmd k q q\r\nmd k O${'o'.repeat(32)}\r\nmd ${'k'.repeat(251)} q\r\n`, [
        reply('CLIENT_ERROR invalid or duplicate flag'),
        reply('CLIENT_ERROR invalid or duplicate flag'),
        reply('CLIENT_ERROR opaque token too long'),
        reply('CLIENT_ERROR bad command line format'),
      ]);
    });

    it('reads ma with modes, delta, initial value and steps', () => {
      check('ma k\r\nma k MD D5 N30 J7 t T60 v c C3\r\nma k M-\r\nma k MX\r\nma k Dx\r\n', [
        req({ kind: 'arith', incr: true, key: 'k', delta: '1n', noreply: false, steps: [] }, frame()),
        req({
          kind: 'arith', incr: false, key: 'k', delta: '5n', initial: { value: '7n', exptime: 0 }, cas: '3n', noreply: false,
          steps: [{ type: 'vivify', exptime: 30 }, { type: 'ttl' }, { type: 'touch', exptime: 60 }],
        }, frame({ returns: ['t', 'c'], value: true })),
        req({ kind: 'arith', incr: false, key: 'k', delta: '1n', noreply: false, steps: [] }, frame()),
        reply('CLIENT_ERROR invalid mode for ma M token'),
        reply('CLIENT_ERROR invalid or duplicate flag'),
      ]);
    });

    it('reads me with an optional b, and answers mn at once', () => {
      check('me k\r\nme Zm9v b\r\nme k bb\r\nme !! b\r\nme\r\nmn x\r\nmx k\r\n', [
        req({ kind: 'metaDebug', key: 'k' }, frame()),
        req({ kind: 'metaDebug', key: 'foo' }, frame({ key: 'foo' })),
        req({ kind: 'metaDebug', key: 'k' }, frame()),
        reply('CLIENT_ERROR bad command line format'),
        reply('CLIENT_ERROR bad command line format'),
        reply('MN'),
        reply('ERROR'),
      ]);
    });
  });
});
