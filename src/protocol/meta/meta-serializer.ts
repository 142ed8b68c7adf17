import type { Request } from '../../model/request.js';
import type { MetaItem, Response, StoreOutcome } from '../../model/response.js';
import { writeTextResponse, type ReplyWriter } from '../text/text-serializer.js';
import { encodeBase64Key } from './base64.js';
import type { MetaFrame } from './meta-frame.js';

const STORE_CODES: Record<StoreOutcome, string> = {
  stored: 'HD',
  not_stored: 'NS',
  exists: 'EX',
  not_found: 'NF',
};

const OPAQUE_TOO_LONG = 'CLIENT_ERROR opaque token too long\r\n';

/**
 * Writes one meta reply as memcached 1.6.18 phrases it: a two-letter code, then the returned
 * flags in request order. q leaves out only the nominal replies; errors always go out.
 */
export function writeMetaResponse(request: Request, frame: MetaFrame, response: Response, write: ReplyWriter): void {
  switch (response.kind) {
    case 'metaGet':
      if (frame.opaqueTooLong) return write(OPAQUE_TOO_LONG);
      if (!response.item) {
        if (!frame.quiet) write(`EN${echo(frame, {}, 'k')}\r\n`);
        return;
      }
      return writeHit(frame, response.item, write);
    case 'store': {
      if (response.outcome === 'stored' && frame.quiet) return;
      const key = request.kind === 'store' ? request.key : frame.key;
      const binary = request.kind === 'store' && request.binaryKey === true;
      const cas = response.outcome === 'stored' ? response.cas ?? 0n : 0n;
      return write(`${STORE_CODES[response.outcome]}${echo(frame, { key, binary, cas })}\r\n`);
    }
    case 'delete':
      if (response.outcome === 'deleted' && frame.quiet) return;
      return write(`${response.outcome === 'deleted' ? 'HD' : response.outcome === 'exists' ? 'EX' : 'NF'}${echo(frame)}\r\n`);
    case 'arith':
      if (response.outcome === 'non_numeric') return write('CLIENT_ERROR cannot increment or decrement non-numeric value\r\n');
      if (frame.opaqueTooLong) return write(OPAQUE_TOO_LONG);
      if (response.outcome !== 'ok') {
        return write(`${response.outcome === 'exists' ? 'EX' : 'NF'}${echo(frame, {}, 'k')}\r\n`);
      }
      // A counter created on a miss is answered even when quiet, as memcached does.
      if (frame.quiet && !response.created) return;
      {
        const digits = String(response.value);
        const head = frame.value ? `VA ${digits.length}` : 'HD';
        const tail = frame.value ? `\r\n${digits}` : '';
        return write(`${head}${echo(frame, { cas: response.cas ?? 0n, ttl: response.ttl })}${tail}\r\n`);
      }
    case 'metaDebug': {
      const item = response.item;
      if (!item) return write('EN\r\n');
      const key = item.binaryKey ? encodeBase64Key(item.key) : item.key.toString('latin1');
      return write(`ME ${key} exp=${item.exp} la=${item.idleSeconds} cas=${item.cas} `
        + `fetch=${item.fetched ? 'yes' : 'no'} cls=${slabClass(item.size)} size=${item.size}\r\n`);
    }
    // Errors are never quiet.
    case 'clientError':
      return write(`CLIENT_ERROR ${response.message}\r\n`);
    case 'serverError':
      return write(`SERVER_ERROR ${response.message}\r\n`);
    default:
      return writeTextResponse(request, response, write);
  }
}

interface EchoValues {
  key?: Buffer;
  binary?: boolean;
  cas?: bigint;
  ttl?: number;
  item?: MetaItem;
}

/**
 * The returned flags, each with its leading space, in request order. Opaque tokens always
 * come back; `letters` limits the others (a miss returns only the key).
 */
function echo(frame: MetaFrame, values: EchoValues = {}, letters = 'kctsflh'): string {
  const item = values.item;
  let out = '';
  for (const flag of frame.returns) {
    if (flag[0] !== 'O' && !letters.includes(flag)) continue;
    switch (flag) {
      case 'k': {
        const key = values.key ?? frame.key;
        const binary = values.binary ?? frame.base64;
        out += binary ? ` k${encodeBase64Key(key)} b` : ` k${key.toString('latin1')}`;
        break;
      }
      case 'c':
        out += ` c${values.cas ?? item?.cas ?? 0n}`;
        break;
      case 't':
        out += ` t${values.ttl ?? item?.ttl ?? -1}`;
        break;
      case 's':
        out += ` s${item?.value.length ?? 0}`;
        break;
      case 'f':
        out += ` f${item?.flags ?? 0}`;
        break;
      case 'l':
        out += ` l${item?.idleSeconds ?? 0}`;
        break;
      case 'h':
        out += ` h${item?.hitBefore ? 1 : 0}`;
        break;
      default:
        // an opaque token, echoed whole
        out += ` ${flag}`;
    }
  }
  return out;
}

function writeHit(frame: MetaFrame, item: MetaItem, write: ReplyWriter): void {
  let line = frame.value ? `VA ${item.value.length}` : 'HD';
  line += echo(frame, { key: item.key, binary: item.binaryKey, item });
  // Z before X before W, as memcached appends them.
  if (item.tokenSent) line += ' Z';
  if (item.stale) line += ' X';
  if (item.won) line += ' W';
  write(`${line}\r\n`);
  if (!frame.value) return;
  if (item.value.length > 0) write(item.value);
  write('\r\n');
}

/**
 * The slab class memcached 1.6.18 would keep an item of this many bytes in with its default
 * settings (-n 48, -f 1.25, 1 MB pages): a table has no slabs, but `me` names one.
 */
export function slabClass(size: number): number {
  const classes = SLAB_CLASS_SIZES;
  for (let i = 0; i < classes.length; i++) if (size <= classes[i]!) return i + 1;
  return classes.length;
}

const SLAB_CLASS_SIZES: readonly number[] = (() => {
  const sizes: number[] = [];
  const chunkMax = 512 * 1024;
  // sizeof(item) + chunk_size, grown by the factor and aligned to 8 bytes (slabs_init)
  let size = 48 + 48;
  while (size < chunkMax / 1.25) {
    if (size % 8) size += 8 - (size % 8);
    sizes.push(size);
    size = Math.floor(size * 1.25);
  }
  sizes.push(chunkMax);
  return sizes;
})();
