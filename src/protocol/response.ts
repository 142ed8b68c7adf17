// The protocol-neutral response model. Expected outcomes are values; only infrastructure
// failures travel as exceptions, and those are turned into ServerErrorResponse at the edge.

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
  | UnknownCommandResponse;
