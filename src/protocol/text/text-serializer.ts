import type { Request } from '../../model/request.js';
import type { Response, StoreOutcome } from '../../model/response.js';

/**
 * Where serialized reply pieces go. Values are passed as the Buffers the store returned, not
 * copied here; the connection decides whether pieces are gathered into one write.
 */
export type ReplyWriter = (piece: string | Buffer) => void;

const STORE_LINES: Record<StoreOutcome, string> = {
  stored: 'STORED\r\n',
  not_stored: 'NOT_STORED\r\n',
  exists: 'EXISTS\r\n',
  not_found: 'NOT_FOUND\r\n',
};

/** True when memcached would send nothing back (out_string with noreply set). */
function silenced(request: Request): boolean {
  return 'noreply' in request && request.noreply;
}

/** Writes one response in the text protocol. */
export function writeTextResponse(request: Request, response: Response, write: ReplyWriter): void {
  if (response.kind === 'hits') {
    if (request.kind === 'get' && request.failLine !== undefined) return write(`${request.failLine}\r\n`);
    for (const item of response.items) {
      if (!item) continue;
      const cas = response.withCas ? ` ${item.cas}` : '';
      write(`VALUE ${item.key.toString('latin1')} ${item.flags} ${item.value.length}${cas}\r\n`);
      if (item.value.length > 0) write(item.value);
      write('\r\n');
    }
    write('END\r\n');
    return;
  }
  if (silenced(request) || response.kind === 'quit') return;
  switch (response.kind) {
    case 'store':
      return write(STORE_LINES[response.outcome]);
    case 'delete':
      return write(response.outcome === 'deleted' ? 'DELETED\r\n' : response.outcome === 'exists' ? 'EXISTS\r\n' : 'NOT_FOUND\r\n');
    case 'touch':
      return write(response.outcome === 'touched' ? 'TOUCHED\r\n' : 'NOT_FOUND\r\n');
    case 'arith':
      if (response.outcome === 'ok') return write(`${response.value}\r\n`);
      if (response.outcome === 'exists') return write('EXISTS\r\n');
      return write(response.outcome === 'not_found'
        ? 'NOT_FOUND\r\n'
        : 'CLIENT_ERROR cannot increment or decrement non-numeric value\r\n');
    case 'ok':
      return write('OK\r\n');
    case 'version':
      return write(`VERSION ${response.version}\r\n`);
    case 'stats':
      write(response.entries.map(([k, v]) => `STAT ${k} ${v}\r\n`).join('') + 'END\r\n');
      return;
    case 'reset':
      return write('RESET\r\n');
    case 'tooLarge':
      return write('SERVER_ERROR object too large for cache\r\n');
    case 'forbidden':
      return write(`CLIENT_ERROR ${response.message}\r\n`);
    case 'unknownCommand':
      return write('ERROR\r\n');
    case 'clientError':
      return write(`CLIENT_ERROR ${response.message}\r\n`);
    case 'serverError':
      return write(`SERVER_ERROR ${response.message}\r\n`);
  }
}
