/** SASL as a connection needs it: synchronous, so commands after an auth see its result. */
export interface SaslAuthenticator {
  /** the SASL_LIST_MECHS reply, mechanisms separated by spaces */
  readonly mechanisms: string;
  /** checks one complete client response for the mechanism; counts the attempt */
  verify(mechanism: string, response: Buffer): boolean;
  /** counts an exchange refused before any credential was checked */
  refused(): void;
}

/** continue: the mechanism wants the client's response in a step (an empty challenge). */
export type SaslVerdict = 'authenticated' | 'failed' | 'continue';

/**
 * One connection's SASL state, as memcached 1.6.18 with Cyrus SASL keeps it: whether the
 * client is logged in, a PLAIN exchange waiting for its step, and whether an exchange already
 * succeeded (Cyrus SASL cannot start another on the same connection).
 */
export class SaslSession {
  private loggedIn = false;
  /** PLAIN was started without an initial response; the credentials come with the step */
  private awaitingStep: string | null = null;
  private completed = false;

  constructor(private readonly authenticator: SaslAuthenticator) {}

  get authenticated(): boolean {
    return this.loggedIn;
  }

  /** SASL_LIST_MECHS: memcached re-initialises the SASL connection here, which drops a login. */
  listMechanisms(): string {
    this.loggedIn = false;
    return this.authenticator.mechanisms;
  }

  /** SASL_AUTH; the mechanism name is matched case-insensitively, as Cyrus SASL does. */
  start(mechanism: string, response: Buffer): SaslVerdict {
    this.loggedIn = false;
    if (this.completed) return this.refuse();
    const name = mechanism.toUpperCase();
    this.awaitingStep = null;
    if (response.length === 0 && this.authenticator.mechanisms.split(' ').includes(name)) {
      this.awaitingStep = name;
      return 'continue';
    }
    return this.conclude(this.authenticator.verify(name, response));
  }

  /** SASL_STEP: the response to an AUTH that asked for it; anything else fails. */
  step(response: Buffer): SaslVerdict {
    this.loggedIn = false;
    if (this.completed || this.awaitingStep === null) return this.refuse();
    const mechanism = this.awaitingStep;
    this.awaitingStep = null;
    return this.conclude(this.authenticator.verify(mechanism, response));
  }

  /** A failure that also logs the client out, with no credential checked. */
  private refuse(): SaslVerdict {
    this.authenticator.refused();
    return 'failed';
  }

  private conclude(ok: boolean): SaslVerdict {
    this.loggedIn = ok;
    if (ok) this.completed = true;
    return ok ? 'authenticated' : 'failed';
  }
}
