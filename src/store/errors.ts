// The few failure types that cross the store boundary. Expected outcomes (NOT_STORED,
// EXISTS, ...) are values, never these.

/** The database cannot be reached or the connection broke; the gateway keeps running. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  /** false when the work never reached the database (no connection); true when it may have run */
  readonly maybeApplied: boolean;
  constructor(message: string, options?: { cause?: unknown; maybeApplied?: boolean }) {
    super(message, options);
    this.maybeApplied = options?.maybeApplied ?? false;
  }
}

/** Another gateway changed the row between our read and our write; the work was rolled back. */
export class ConcurrentChangeError extends Error {
  override readonly name = 'ConcurrentChangeError';
  constructor() {
    super('concurrent change; retry');
  }
}

/** The database answered with an error we do not expect in normal operation. */
export class DatabaseQueryError extends Error {
  override readonly name = 'DatabaseQueryError';
  constructor(message: string, readonly code: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
  }
}
