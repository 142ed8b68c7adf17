import type { Request } from '../../model/request.js';
import type { Item, Response } from '../../model/response.js';
import type { ReplyWriter } from '../text/text-serializer.js';
import type { BinaryFrame } from './binary-parser.js';
import { Status } from './opcodes.js';
import { errorPacket, responseHeader, statPacket, successPacket } from './packet.js';

/**
 * Writes one response in the binary protocol, as memcached 1.6.18's proto_bin.c builds it.
 * Errors are always sent; a quiet opcode leaves out only its successful reply.
 */
export function writeBinaryResponse(request: Request, frame: BinaryFrame, response: Response, write: ReplyWriter): void {
  const { opcode, opaque } = frame;
  const fail = (status: number, text?: string) => write(errorPacket(opcode, opaque, status, text));
  const succeed = (body: Buffer | string = '', cas = 0n) => {
    if (!frame.quiet) write(successPacket(opcode, opaque, body, cas));
  };

  switch (response.kind) {
    case 'hits': {
      const item = response.items[0] ?? null;
      if (item) return writeHit(frame, item, write);
      if (frame.quiet) return;
      // GETK/GATK misses carry the key instead of an error text.
      if (frame.withKey && request.kind === 'get') {
        const key = request.keys[0]!;
        write(responseHeader({
          opcode, status: Status.KEY_ENOENT, keyLength: key.length, extrasLength: 0, bodyLength: key.length, opaque, cas: 0n,
        }));
        return write(key);
      }
      return fail(Status.KEY_ENOENT);
    }
    case 'store':
      switch (response.outcome) {
        case 'stored':
          return succeed('', response.cas ?? 0n);
        case 'exists':
          return fail(Status.KEY_EEXISTS);
        case 'not_found':
          return fail(Status.KEY_ENOENT);
        case 'not_stored': {
          // complete_update_bin: a refused add means the key exists, a refused replace that it
          // does not; anything else is "Not stored."
          const mode = request.kind === 'store' ? request.mode : 'set';
          return fail(mode === 'add' ? Status.KEY_EEXISTS : mode === 'replace' ? Status.KEY_ENOENT : Status.NOT_STORED);
        }
      }
      return;
    case 'delete':
      if (response.outcome === 'deleted') return succeed();
      return fail(response.outcome === 'exists' ? Status.KEY_EEXISTS : Status.KEY_ENOENT);
    case 'arith':
      switch (response.outcome) {
        case 'ok': {
          const body = Buffer.alloc(8);
          body.writeBigUInt64BE(response.value!);
          return succeed(body, response.cas ?? 0n);
        }
        case 'not_found':
          return fail(Status.KEY_ENOENT);
        case 'exists':
          return fail(Status.KEY_EEXISTS);
        case 'non_numeric':
          return fail(Status.DELTA_BADVAL);
      }
      return;
    case 'touch':
      // Binary TOUCH is served as a gat (its reply carries flags and CAS); kept for completeness.
      return response.outcome === 'touched' ? succeed() : fail(Status.KEY_ENOENT);
    case 'ok':
    case 'quit':
      return succeed();
    case 'version':
      return succeed(response.version);
    case 'stats':
      for (const [name, value] of response.entries) write(statPacket(opaque, name, value));
      return write(statPacket(opaque, '', ''));
    case 'reset':
      return write(statPacket(opaque, '', ''));
    case 'unknownCommand':
      // Only stats groups reach here: memcached answers an unknown group with "Not found".
      return fail(request.kind === 'stats' ? Status.KEY_ENOENT : Status.UNKNOWN_COMMAND);
    case 'tooLarge':
      return fail(Status.E2BIG);
    case 'forbidden':
      // process_bin_flush answers a disabled flush_all with an auth error.
      return fail(Status.AUTH_ERROR);
    case 'clientError':
      return fail(Status.EINVAL, response.message);
    case 'serverError':
      // No 1.6.18 status says "the store is unreachable"; ETMPFAIL is what later memcached
      // revisions and libmemcached use for a temporary failure, and the text explains it.
      return fail(Status.ETMPFAIL, response.message);
  }
}

function writeHit(frame: BinaryFrame, item: Item, write: ReplyWriter): void {
  const key = frame.withKey ? item.key : null;
  const value = frame.noValue ? null : item.value;
  const keyLength = key?.length ?? 0;
  const valueLength = value?.length ?? 0;
  const header = responseHeader({
    opcode: frame.opcode,
    status: Status.SUCCESS,
    keyLength,
    extrasLength: 4,
    bodyLength: 4 + keyLength + valueLength,
    opaque: frame.opaque,
    cas: item.cas,
  });
  const head = Buffer.allocUnsafe(header.length + 4 + keyLength);
  header.copy(head, 0);
  head.writeUInt32BE(item.flags >>> 0, header.length);
  if (key) key.copy(head, header.length + 4);
  write(head);
  if (valueLength > 0) write(value!);
}
