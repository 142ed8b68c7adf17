// Pieces of SQL that many statements share, so each is spelled once.

/** The database clock: every expiry and access time is judged by it, never the gateway's. */
export const NOW = 'UNIX_TIMESTAMP()';

/** A CAS value, sent as text: mysql2 would send a JS number, which cannot hold 64 bits. */
export const CAS = 'CAST(? AS UNSIGNED)';

export function quote(table: string): string {
  return `\`${table}\``;
}

/** n comma-separated copies of a placeholder. */
export function placeholders(n: number, one = '?'): string {
  return new Array<string>(n).fill(one).join(', ');
}

/**
 * A statement text per list length, built the first time that length is used: the lengths
 * come from a few fixed sizes (batch-policy.ts), so the texts are few and built once.
 */
export function perSize(build: (n: number) => string): (n: number) => string {
  const texts = new Map<number, string>();
  return (n) => {
    let text = texts.get(n);
    if (text === undefined) texts.set(n, (text = build(n)));
    return text;
  };
}
