/**
 * What legitimately differs between memcached and memgate in a text reply is masked (CAS
 * uniques, versions, clock readings), and reply bytes are rendered losslessly and readably, so
 * that differential tests can compare two servers and print a diff a person can read.
 */

const VALUE_LINE = /^VALUE ([^ ]+) (\d+) (\d+)(?: (\d+))?\r\n$/;
/** A meta reply line: a two-letter code, then flags. */
const META_LINE = /^(HD|VA|EN|NF|NS|EX|ME)( [^\r\n]*)?\r\n$/;

/** Key under which MaskedReply.cas records the last non-zero CAS of a meta reply. */
export const LAST_META_CAS = '@meta';

export interface MaskedReply {
  masked: Buffer;
  /** cas uniques seen in VALUE lines, by key (latin1); the last meta one under LAST_META_CAS. */
  cas: Map<string, string>;
}

/**
 * Seconds read off two clocks that tick at different moments may differ by one: a remaining
 * TTL is compared rounded up to tens, an idle time rounded down to tens.
 */
const roughTtl = (n: number): string => (n <= 1 ? String(n) : `~${Math.ceil(n / 10) * 10}`);
const roughIdle = (n: number): string => `~${Math.floor(n / 10) * 10}`;

/**
 * Masks a meta reply line: CAS values (c<n>, cas=<n>; zero stays), TTLs (t<n>, exp=<n>) and
 * idle times (l<n>, la=<n>). Returns the masked line and the CAS it carried, if any.
 */
function maskMetaLine(line: string): { line: string; cas?: string } {
  let cas: string | undefined;
  const tokens = line.slice(0, -2).split(' ').map((token, i) => {
    if (i === 0) return token;
    let m = /^c([1-9]\d*)$/.exec(token) ?? /^cas=([1-9]\d*)$/.exec(token);
    if (m) {
      cas = m[1]!;
      return token.startsWith('cas=') ? 'cas=<cas>' : 'c<cas>';
    }
    if ((m = /^t(\d+)$/.exec(token))) return `t${roughTtl(Number(m[1]))}`;
    if ((m = /^exp=-(\d+)$/.exec(token))) return `exp=-${roughTtl(Number(m[1]))}`;
    if ((m = /^l(\d+)$/.exec(token))) return `l${roughIdle(Number(m[1]))}`;
    if ((m = /^la=(\d+)$/.exec(token))) return `la=${roughIdle(Number(m[1]))}`;
    return token;
  });
  return { line: `${tokens.join(' ')}\r\n`, cas };
}

/**
 * Masks what legitimately differs between memcached and memgate in a text
 * protocol reply: the cas unique of `VALUE <key> <flags> <bytes> <cas>` lines
 * becomes `<cas>`, `VERSION <anything>` lines become `VERSION <version>`, and
 * meta replies get their CAS values and clock readings masked (maskMetaLine).
 * Walks the reply line by line; VALUE headers are followed by their data block,
 * which is copied verbatim (it may contain anything, including lines that
 * look like protocol lines).
 */
export function maskTextReply(buf: Buffer): MaskedReply {
  const parts: Buffer[] = [];
  const cas = new Map<string, string>();
  let i = 0;
  while (i < buf.length) {
    const nl = buf.indexOf(0x0a, i);
    if (nl < 0) {
      parts.push(buf.subarray(i));
      break;
    }
    const line = buf.toString('latin1', i, nl + 1);
    const m = VALUE_LINE.exec(line);
    if (m) {
      const [, key, flags, bytes, unique] = m;
      if (unique !== undefined) {
        cas.set(key!, unique);
        parts.push(Buffer.from(`VALUE ${key} ${flags} ${bytes} <cas>\r\n`, 'latin1'));
      } else {
        parts.push(buf.subarray(i, nl + 1));
      }
      const end = Math.min(buf.length, nl + 1 + Number(bytes) + 2);
      parts.push(buf.subarray(nl + 1, end));
      i = end;
      continue;
    }
    const meta = META_LINE.exec(line);
    if (meta) {
      const masked = maskMetaLine(line);
      if (masked.cas) cas.set(LAST_META_CAS, masked.cas);
      parts.push(Buffer.from(masked.line, 'latin1'));
      i = nl + 1;
      if (meta[1] === 'VA') {
        // VA <bytes> <flags>*: the data block follows, copied verbatim.
        const end = Math.min(buf.length, i + Number(line.split(' ')[1]) + 2);
        parts.push(buf.subarray(i, end));
        i = end;
      }
      continue;
    }
    if (line.startsWith('VERSION ')) {
      parts.push(Buffer.from('VERSION <version>\r\n', 'latin1'));
    } else {
      parts.push(buf.subarray(i, nl + 1));
    }
    i = nl + 1;
  }
  return { masked: Buffer.concat(parts), cas };
}

/**
 * Lossless, readable rendering: printable ASCII as-is, everything else (and
 * `\`, `{`) escaped, runs of more than 16 equal bytes as `{<byte>*<count>}`.
 */
export function render(buf: Buffer): string {
  const esc = (b: number): string => {
    if (b === 0x0d) return '\\r';
    if (b === 0x0a) return '\\n';
    if (b === 0x5c) return '\\\\';
    if (b === 0x7b) return '\\x7b';
    if (b >= 0x20 && b < 0x7f) return String.fromCharCode(b);
    return `\\x${b.toString(16).padStart(2, '0')}`;
  };
  let out = '';
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    let j = i + 1;
    while (j < buf.length && buf[j] === b) j++;
    const run = j - i;
    if (run > 16) {
      out += `{${esc(b)}*${run}}`;
    } else {
      for (let r = 0; r < run; r++) out += esc(b);
    }
    i = j;
  }
  return out;
}

