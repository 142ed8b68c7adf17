import { MAX_TOKENS } from '../limits.js';

/** A token as offsets into the line: the line buffer may be a view we must not copy. */
export interface Token {
  start: number;
  end: number;
}

export interface Tokens {
  list: Token[];
  /**
   * Offset of the first byte not tokenised when the line had more tokens than memcached
   * reads at once (MAX_TOKENS - 1), else -1. memcached's tokenize_command keeps the rest as
   * its terminal token; multi-key gets continue from there, other commands see too many tokens.
   */
  rest: number;
}

const SPACE = 0x20;

/** tokenize_command (proto_text.c): split on single spaces only, empty tokens skipped. */
export function tokenize(line: Buffer, from = 0): Tokens {
  const list: Token[] = [];
  let start = from;
  for (let i = from; i < line.length; i++) {
    if (line[i] !== SPACE) continue;
    if (i > start) {
      list.push({ start, end: i });
      if (list.length === MAX_TOKENS - 1) {
        return { list, rest: i + 1 < line.length ? i + 1 : -1 };
      }
    }
    start = i + 1;
  }
  if (line.length > start) list.push({ start, end: line.length });
  return { list, rest: -1 };
}

/** A token's bytes as text (the caller has already cut the line at any NUL, as strlen does). */
export function tokenText(line: Buffer, token: Token): string {
  return line.toString('latin1', token.start, token.end);
}
