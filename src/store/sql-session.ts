import mysql from 'mysql2';
import { connectionTarget, type DatabaseEndpoint } from './db-url.js';
import { connectWithTls } from './db-tls.js';
import { isUnknownSystemVariable } from './mysql-errors.js';

/** What mysql2 answers: rows (or a result header) and field descriptions. */
export type QueryResult = [unknown, unknown];

export interface SessionOptions {
  endpoint: DatabaseEndpoint;
  connectTimeoutMs: number;
  /** wsrep_sync_wait for sessions on Galera nodes; 0 leaves the server's setting */
  wsrepSyncWait: number;
  /** the gateway's limit for one command; the server's own limits are set below it */
  statementTimeoutMs?: number;
}

/**
 * One database connection, as the store uses it. It remembers whether a statement that can
 * change data has been sent since the last reset: when the connection breaks, that tells a
 * command that certainly did not run (safe to run again anywhere) from one that may have run.
 * Inside a transaction only the COMMIT of one that wrote counts, since the server rolls back a
 * transaction whose connection is lost before it. Uses mysql2's callback API: the promise wrapper captures a stack
 * for every statement, which costs more than the statement on a busy gateway.
 */
export class SqlSession {
  private inTransaction = false;
  /** a data-changing statement was sent inside the open transaction */
  private transactionWrote = false;
  private changeSent = false;
  private closed = false;
  /** true for a Galera node (wsrep_on), learnt when the session opened */
  galera = false;
  /** statements prepared on this connection, by their text (a few dozen: batch-policy.ts sizes) */
  private readonly statements = new Map<string, mysql.PrepareStatementInfo>();

  private constructor(private readonly raw: mysql.Connection) {
    // Errors with no statement waiting (the server went away while idle) arrive here.
    raw.on('error', () => {
      this.closed = true;
    });
    raw.on('end', () => {
      this.closed = true;
    });
  }

  static async open(options: SessionOptions): Promise<SqlSession> {
    const { endpoint } = options;
    const raw = await connectWithTls(endpoint, async (ssl) => {
      const connection = mysql.createConnection({
        ...connectionTarget(endpoint),
        connectTimeout: options.connectTimeoutMs,
        // affectedRows must count changed rows: add's upsert tells stored from not stored by
        // 1-or-2 versus 0, which FOUND_ROWS would blur.
        flags: ['-FOUND_ROWS'],
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
        ...(ssl ? { ssl } : {}),
      });
      await new Promise<void>((resolve, reject) => {
        connection.once('connect', () => resolve());
        connection.once('error', reject);
      });
      return connection;
    });
    const session = new SqlSession(raw);
    // connectTimeout covers the handshake only; a server that stops answering during the
    // set-up statements must not hold a pool slot or a probe forever.
    const setupTimer = setTimeout(() => session.destroy(), options.connectTimeoutMs);
    try {
      // NDB only offers READ COMMITTED; use it everywhere so every engine behaves alike.
      await session.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
      const [rows] = await session.query("SHOW VARIABLES LIKE 'wsrep_on'");
      session.galera = (rows as Array<{ Value: string }>)[0]?.Value === 'ON';
      // Causal reads: a read waits until this node has applied every write the cluster had
      // committed when it began, so a get never misses a set acknowledged through another node.
      if (session.galera && options.wsrepSyncWait > 0) {
        await session.query(`SET SESSION wsrep_sync_wait = ${Math.floor(options.wsrepSyncWait)}`);
      }
      if (options.statementTimeoutMs) await session.limitStatements(options.statementTimeoutMs);
      session.reset();
      return session;
    } catch (error) {
      session.destroy();
      throw error;
    } finally {
      clearTimeout(setupTimer);
    }
  }

  /**
   * Makes the server give up on a statement before the gateway does: a lock wait ends with
   * 1205 and (MariaDB) any statement with 1969, both rolled back, instead of a statement the
   * gateway abandoned at its deadline still committing later, after a retry elsewhere.
   */
  private async limitStatements(statementTimeoutMs: number): Promise<void> {
    const seconds = Math.max(1, Math.floor(statementTimeoutMs / 1000) - 1);
    await this.query(`SET SESSION innodb_lock_wait_timeout = ${seconds}`);
    try {
      await this.query(`SET SESSION max_statement_time = ${(statementTimeoutMs * 0.8 / 1000).toFixed(3)}`);
    } catch (error) {
      // MySQL has no max_statement_time (1193 unknown system variable); its lock wait limit stays.
      if (!isUnknownSystemVariable(error)) throw error;
    }
  }

  /** Whether the connection is known to be unusable. */
  get broken(): boolean {
    return this.closed;
  }

  /** Whether a statement that can change data may have reached the server since reset(). */
  get mayHaveChanged(): boolean {
    return this.changeSent;
  }

  /** Starts a new unit of work: nothing sent yet. */
  reset(): void {
    this.changeSent = false;
    this.inTransaction = false;
    this.transactionWrote = false;
  }

  execute(sql: string, params: readonly unknown[] = []): Promise<QueryResult> {
    return this.send(true, sql, params);
  }

  query(sql: string, params: readonly unknown[] = []): Promise<QueryResult> {
    return this.send(false, sql, params);
  }

  destroy(): void {
    this.closed = true;
    this.raw.destroy();
    // mysql2's destroy() only half-closes the socket; a frozen server would keep it open.
    (this.raw as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  }

  private send(prepared: boolean, sql: string, params: readonly unknown[]): Promise<QueryResult> {
    if (this.closed) return Promise.reject(connectionClosed());
    this.note(sql);
    return new Promise<QueryResult>((resolve, reject) => {
      const done = (error: unknown, result: unknown, fields: unknown) => {
        if (error) reject(error);
        else resolve([result, fields]);
      };
      // mysql2's typings do not accept a readonly array; it does not modify it.
      if (!prepared) {
        this.raw.query(sql, params as unknown[], done);
        return;
      }
      // A statement prepared on this connection before runs as one command. connection.execute
      // would queue a second command per call just to find it in mysql2's statement cache.
      const statement = this.statements.get(sql);
      if (statement) {
        statement.execute(params as mysql.ExecuteValues[], done);
        return;
      }
      this.raw.prepare(sql, (error, prepared) => {
        if (error) {
          done(error, undefined, undefined);
          return;
        }
        this.statements.set(sql, prepared);
        prepared.execute(params as mysql.ExecuteValues[], done);
      });
    });
  }

  private note(sql: string): void {
    const verb = firstWord(sql);
    switch (verb) {
      case 'START':
      case 'BEGIN':
        this.inTransaction = true;
        this.transactionWrote = false;
        return;
      case 'COMMIT':
        // Committing a transaction that only read changes nothing, whatever becomes of it.
        this.inTransaction = false;
        if (this.transactionWrote) this.changeSent = true;
        return;
      case 'ROLLBACK':
        this.inTransaction = false;
        return;
      case 'SELECT':
      case 'SHOW':
      case 'SET':
        return;
      default:
        if (this.inTransaction) this.transactionWrote = true;
        else this.changeSent = true;
    }
  }
}

function firstWord(sql: string): string {
  let start = 0;
  while (start < sql.length && sql.charCodeAt(start) <= 32) start++;
  let end = start;
  while (end < sql.length && sql.charCodeAt(end) > 32) end++;
  return sql.slice(start, end).toUpperCase();
}

function connectionClosed(): Error {
  return Object.assign(new Error('the database connection is closed; the statement was not sent'), {
    code: 'PROTOCOL_CONNECTION_LOST',
    fatal: true,
  });
}
