/** Counters with memcached's names; one instance per gateway process. */
export class ServerStats {
  readonly startedAt = Date.now();
  currConnections = 0;
  /** connections accepted and refused since start; `stats reset` does not clear these (metrics read them) */
  accepted = 0;
  refused = 0;
  /** items stored through this gateway since start */
  itemsStored = 0;
  /** memcached lists idle_kicks only when an idle timeout is set */
  reportsIdleKicks = false;
  readonly counters = {
    cmd_get: 0,
    cmd_set: 0,
    cmd_flush: 0,
    cmd_touch: 0,
    cmd_meta: 0,
    get_hits: 0,
    get_misses: 0,
    get_expired: 0,
    get_flushed: 0,
    delete_misses: 0,
    delete_hits: 0,
    incr_misses: 0,
    incr_hits: 0,
    decr_misses: 0,
    decr_hits: 0,
    cas_misses: 0,
    cas_hits: 0,
    cas_badval: 0,
    touch_hits: 0,
    touch_misses: 0,
    store_too_large: 0,
    store_no_memory: 0,
    auth_cmds: 0,
    auth_errors: 0,
    idle_kicks: 0,
    bytes_read: 0,
    bytes_written: 0,
  };

  private atReset = { accepted: 0, refused: 0, itemsStored: 0 };

  // Accessors, so that the listener's `++` counts the lifetime totals that metrics read, while
  // `stats` reports them since the last reset as memcached does.
  get totalConnections(): number {
    return this.accepted - this.atReset.accepted;
  }

  set totalConnections(value: number) {
    this.accepted = value + this.atReset.accepted;
  }

  get rejectedConnections(): number {
    return this.refused - this.atReset.refused;
  }

  set rejectedConnections(value: number) {
    this.refused = value + this.atReset.refused;
  }

  /** total_items: stores through this gateway since the last reset */
  get totalItems(): number {
    return this.itemsStored - this.atReset.itemsStored;
  }

  /** Counters other parts keep (the database pool, coalescing), as they are at the last reset. */
  private readonly baseline = new Map<string, number>();
  private readonly external: Array<() => Iterable<[string, number]>> = [];

  count(name: keyof ServerStats['counters'], by = 1): void {
    this.counters[name] += by;
  }

  /** Counters kept elsewhere that `stats reset` clears too; report them through sinceReset(). */
  trackExternal(read: () => Iterable<[string, number]>): void {
    this.external.push(read);
  }

  /** What an external counter has counted since the last reset. */
  sinceReset(name: string, value: number): number {
    return value - (this.baseline.get(name) ?? 0);
  }

  /** stats reset: memcached clears the command counters, not the connection gauges. */
  reset(): void {
    for (const name of Object.keys(this.counters) as Array<keyof ServerStats['counters']>) this.counters[name] = 0;
    this.atReset = { accepted: this.accepted, refused: this.refused, itemsStored: this.itemsStored };
    // Their owners go on counting; from here on they are reported relative to this moment.
    for (const read of this.external) for (const [name, value] of read()) this.baseline.set(name, value);
  }
}
