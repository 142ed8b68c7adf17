import type { BinaryFrame, BinaryParseEvent } from './binary-parser.js';
import { Status } from './opcodes.js';
import { errorPacket, statPacket } from './packet.js';

/**
 * What a binary STAT asks for, as process_bin_stat decides it: a stats group the stats
 * handler answers, or a reply of the binary protocol alone. "reset", "settings" and "detail"
 * match as prefixes, the other groups whole; "conns" is a text-only group in memcached, so it
 * is unknown here.
 */
export function binaryStat(name: string, frame: BinaryFrame): BinaryParseEvent {
  const stats = (group: string): BinaryParseEvent => ({ type: 'request', request: { kind: 'stats', group }, frame });
  const packets = (...entries: Array<[string, string]>): BinaryParseEvent => ({
    type: 'reply',
    data: Buffer.concat(entries.map(([k, v]) => statPacket(frame.opaque, k, v))),
  });
  if (name === '' || name === 'items' || name === 'slabs' || name === 'sizes') return stats(name);
  if (name.startsWith('reset')) return stats('reset');
  if (name.startsWith('settings')) return stats('settings');
  // memgate keeps no per-prefix statistics: detail on/off are accepted and the dump is empty.
  if (name.startsWith('detail on') || name.startsWith('detail off')) return packets(['', '']);
  if (name.startsWith('detail dump')) return packets(['detailed', 'END\r\n'], ['', '']);
  // memcached sends these two without a terminating packet.
  if (name === 'sizes_enable') return packets(['sizes_status', 'enabled']);
  if (name === 'sizes_disable') return packets(['sizes_status', 'disabled']);
  return { type: 'reply', data: errorPacket(frame.opcode, frame.opaque, Status.KEY_ENOENT) };
}
