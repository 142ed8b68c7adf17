/**
 * Teardown in reverse order of set-up: each resource registers its release right after it
 * is created. release() runs once; later calls get the same promise. The first error wins,
 * but every releaser still runs.
 */
export class Releasers {
  private readonly list: Array<{ name: string; release: () => Promise<void> | void }> = [];
  private released: Promise<void> | null = null;

  push(name: string, release: () => Promise<void> | void): void {
    if (this.released) throw new Error(`cannot register ${name}: already released`);
    this.list.push({ name, release });
  }

  release(): Promise<void> {
    this.released ??= (async () => {
      let first: unknown = null;
      for (const { release } of this.list.reverse()) {
        try {
          await release();
        } catch (error) {
          first ??= error;
        }
      }
      if (first) throw first;
    })();
    return this.released;
  }
}
