/**
 * Received chunks not yet consumed. Reads that fall inside one chunk are views of it (chunks
 * are never written after they arrive); only a read that spans chunks copies, once.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  /** bytes of chunks[0] already consumed */
  private offset = 0;
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The next n bytes without consuming them (n <= length). */
  peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let offset = this.offset;
    for (const chunk of this.chunks) {
      copied += chunk.copy(out, copied, offset, Math.min(chunk.length, offset + n - copied));
      offset = 0;
      if (copied === n) break;
    }
    return out;
  }

  /** Consumes and returns the next n bytes (n <= length). */
  take(n: number): Buffer {
    const out = this.peek(n);
    this.skip(n);
    return out;
  }

  /** Consumes up to n bytes; returns how many were consumed. */
  skip(n: number): number {
    let left = Math.min(n, this.length);
    const skipped = left;
    while (left > 0) {
      const first = this.chunks[0]!;
      const available = first.length - this.offset;
      if (available > left) {
        this.offset += left;
        break;
      }
      left -= available;
      this.chunks.shift();
      this.offset = 0;
    }
    this.length -= skipped;
    return skipped;
  }

  clear(): void {
    this.chunks = [];
    this.offset = 0;
    this.length = 0;
  }
}
