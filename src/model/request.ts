// The protocol-neutral request model: text, binary and meta parsers all produce these,
// and command handlers never see wire bytes.

export type StoreMode = 'set' | 'add' | 'replace' | 'append' | 'prepend' | 'cas';

/** get/gets/gat/gats in one shape: withCas for the "s" forms, touchExptime for gat. */
export interface GetRequest {
  kind: 'get';
  keys: Buffer[];
  withCas: boolean;
  touchExptime?: number;
  /**
   * text: the error line that answers instead of the hits. memcached looks up (and for gat
   * touches) the keys before a too long one, then answers only the error; keys holds those.
   */
  failLine?: string;
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
  /**
   * meta ms I with a CAS: a CAS older than the item's still stores, but keeps the item's
   * exptime and marks it stale (memcached's CAS_STALE)
   */
  invalidate?: boolean;
  /** meta b: the key was sent base64-encoded, and is echoed back that way from now on */
  binaryKey?: boolean;
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
  /** delete only if the item still has this CAS; absent = any (binary: a zero CAS is absent) */
  cas?: bigint;
  /** meta md I: mark the item stale with a new CAS instead of deleting it; T sets its exptime */
  invalidate?: { exptime?: number };
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
  /**
   * meta ma: T, N and t in the order given (see MetaStep). A created counter starts with no
   * exptime; initial.exptime is then ignored and the steps set it.
   */
  steps?: MetaStep[];
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

/**
 * What a meta command does to an item, in the order the client gave its flags: memcached
 * applies them one after another, so a TTL reported before a touch is the old one.
 */
export type MetaStep =
  /** T: set the exptime */
  | { type: 'touch'; exptime: number }
  /** N: when the command created the item, set its exptime (and, for mg, the win) */
  | { type: 'vivify'; exptime: number }
  /** R: win the recache token when the item expires before this exptime would */
  | { type: 'recache'; exptime: number }
  /** t: the remaining TTL is reported as it stands at this point */
  | { type: 'ttl' }
  /** the command fails here (a token memcached only rejects while answering): nothing after applies */
  | { type: 'fail' };

/** meta get (mg): one key; what to learn is in the reply format, what to change in steps. */
export interface MetaGetRequest {
  kind: 'metaGet';
  key: Buffer;
  steps: MetaStep[];
  /** u: no hit/last-access bookkeeping */
  noBump: boolean;
  /** h or l: hit-before and last access are read under the row lock, before this access */
  accessInfo: boolean;
  noreply: boolean;
}

/** meta debug (me): an item's metadata, without its value and without counting as an access. */
export interface MetaDebugRequest {
  kind: 'metaDebug';
  key: Buffer;
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
  | VerbosityRequest
  | MetaGetRequest
  | MetaDebugRequest;

export type RequestKind = Request['kind'];
