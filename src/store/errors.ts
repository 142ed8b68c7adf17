// The few failure types that cross the store boundary. Expected outcomes (NOT_STORED,
// EXISTS, ...) are values, never these.

/** The database cannot be reached or the connection broke; the gateway keeps running. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The database answered with an error we do not expect in normal operation. */
export class DatabaseQueryError extends Error {
  override readonly name = 'DatabaseQueryError';
  constructor(message: string, readonly code: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
  }
}
