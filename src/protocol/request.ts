// The protocol-neutral request model: text, binary and meta parsers all produce these,
// and command handlers never see wire bytes.

export type StoreMode = 'set' | 'add' | 'replace' | 'append' | 'prepend' | 'cas';

/** get/gets/gat/gats in one shape: withCas for the "s" forms, touchExptime for gat. */
export interface GetRequest {
  kind: 'get';
  keys: Buffer[];
  withCas: boolean;
  touchExptime?: number;
}

export interface StoreRequest {
  kind: 'store';
  mode: StoreMode;
  key: Buffer;
  flags: number;
  exptime: number;
  value: Buffer;
  /** compare-and-swap token; 0n means none */
  cas: bigint;
  noreply: boolean;
}

/** A store whose value exceeded the item size limit; its data was swallowed by the parser. */
export interface TooLargeRequest {
  kind: 'tooLarge';
  mode: StoreMode;
  key: Buffer;
  noreply: boolean;
}

export interface DeleteRequest {
  kind: 'delete';
  key: Buffer;
  /** binary protocol: delete only if the item still has this CAS; absent or 0n = any */
  cas?: bigint;
  noreply: boolean;
}

export interface ArithmeticRequest {
  kind: 'arith';
  incr: boolean;
  key: Buffer;
  delta: bigint;
  /** binary protocol: create the counter with this value when missing */
  initial?: { value: bigint; exptime: number };
  /** binary protocol: apply only if the item still has this CAS; absent or 0n = any */
  cas?: bigint;
  noreply: boolean;
}

export interface TouchRequest {
  kind: 'touch';
  key: Buffer;
  exptime: number;
  noreply: boolean;
}

export interface FlushRequest {
  kind: 'flush';
  /** seconds (or an absolute time, like exptime); null when the argument did not parse */
  delay: number | null;
  noreply: boolean;
}

export interface StatsRequest {
  kind: 'stats';
  group: string;
}

export interface SimpleRequest {
  kind: 'version' | 'quit' | 'noop';
}

export interface VerbosityRequest {
  kind: 'verbosity';
  level: number;
  noreply: boolean;
}

export type Request =
  | GetRequest
  | StoreRequest
  | TooLargeRequest
  | DeleteRequest
  | ArithmeticRequest
  | TouchRequest
  | FlushRequest
  | StatsRequest
  | SimpleRequest
  | VerbosityRequest;

export type RequestKind = Request['kind'];
