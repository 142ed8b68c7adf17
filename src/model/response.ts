// The protocol-neutral response model. Expected outcomes are values; only infrastructure
// failures travel as exceptions, and those are turned into a SERVER_ERROR reply by the command layer (src/commands/request-runner.ts).

export interface Item {
  key: Buffer;
  value: Buffer;
  flags: number;
  cas: bigint;
}

export type StoreOutcome = 'stored' | 'not_stored' | 'exists' | 'not_found';

export interface HitsResponse {
  kind: 'hits';
  /** one entry per requested key, in request order; null is a miss */
  items: Array<Item | null>;
  withCas: boolean;
}

export interface StoreResponse {
  kind: 'store';
  outcome: StoreOutcome;
  cas?: bigint;
}

export interface DeleteResponse {
  kind: 'delete';
  /** exists: a CAS was given and the item has another one */
  outcome: 'deleted' | 'not_found' | 'exists';
}

export interface TouchResponse {
  kind: 'touch';
  outcome: 'touched' | 'not_found';
}

export interface ArithmeticResponse {
  kind: 'arith';
  /** exists: a CAS was given and the item has another one */
  outcome: 'ok' | 'not_found' | 'non_numeric' | 'exists';
  value?: bigint;
  cas?: bigint;
  /** meta: the counter did not exist and was created with its initial value */
  created?: boolean;
  /** meta t: remaining seconds where the steps asked for it, -1 = never expires */
  ttl?: number;
}

/** What meta get reports about an item; the access fields are as they were before this access. */
export interface MetaItem extends Item {
  /** remaining seconds where the steps asked for it (t), -1 = never expires */
  ttl?: number;
  /** seconds since the item was last accessed (l) */
  idleSeconds: number;
  /** the item had been fetched before (h) */
  hitBefore: boolean;
  /** marked stale by an invalidation (X) */
  stale: boolean;
  /** another client already holds the recache token (Z) */
  tokenSent: boolean;
  /** this client won the recache token (W) */
  won: boolean;
  /** the key was stored base64-encoded (meta b) and is echoed that way */
  binaryKey: boolean;
}

export interface MetaGetResponse {
  kind: 'metaGet';
  /** null: a miss */
  item: MetaItem | null;
}

/** meta debug: memcached's internal view of an item, as far as a table has one. */
export interface MetaDebugResponse {
  kind: 'metaDebug';
  item: {
    key: Buffer;
    binaryKey: boolean;
    /** seconds since the expiry (negative while it lies ahead), -1 = never expires */
    exp: number;
    idleSeconds: number;
    cas: bigint;
    fetched: boolean;
    /** bytes memcached would charge for the item (ITEM_ntotal) */
    size: number;
  } | null;
}

export interface OkResponse {
  kind: 'ok';
}

export interface VersionResponse {
  kind: 'version';
  version: string;
}

export interface StatsResponse {
  kind: 'stats';
  entries: Array<[string, string]>;
}

/** A reply that is an error line: CLIENT_ERROR <message> or SERVER_ERROR <message>. */
export interface ErrorResponse {
  kind: 'clientError' | 'serverError';
  message: string;
}

export interface QuitResponse {
  kind: 'quit';
}

/** stats reset done (text: RESET) */
export interface ResetResponse {
  kind: 'reset';
}

/** A store whose value exceeded the item size limit. */
export interface TooLargeResponse {
  kind: 'tooLarge';
}

/** A command turned off by configuration (flush_all with flushAll.enabled false). */
export interface ForbiddenResponse {
  kind: 'forbidden';
  message: string;
}

/** A command or subcommand this server does not know (text: ERROR). */
export interface UnknownCommandResponse {
  kind: 'unknownCommand';
}

export type Response =
  | HitsResponse
  | StoreResponse
  | DeleteResponse
  | TouchResponse
  | ArithmeticResponse
  | OkResponse
  | VersionResponse
  | StatsResponse
  | ErrorResponse
  | QuitResponse
  | ResetResponse
  | TooLargeResponse
  | ForbiddenResponse
  | UnknownCommandResponse
  | MetaGetResponse
  | MetaDebugResponse;
