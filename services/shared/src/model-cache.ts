// A least-recently-used cache of parsed models, bounded by estimated bytes rather than entries:
// models range from kilobytes to tens of megabytes, so a count bound either wastes the budget or
// lets a few large models exhaust the heap. Stored model versions never change, so an entry never
// goes stale; callers still ask Postgres which version is current.

export class ModelCache<T> {
  private readonly entries = new Map<string, { value: T; bytes: number }>();
  private used = 0;

  constructor(private readonly maxBytes: number) {
    if (!Number.isFinite(maxBytes) || maxBytes < 1)
      throw new Error(`model cache budget must be a positive number of bytes, got ${maxBytes}`);
  }

  get(id: string): T | undefined {
    const entry = this.entries.get(id);
    if (entry !== undefined) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.entries.delete(id);
      this.entries.set(id, entry);
    }
    return entry?.value;
  }

  /** Keeps `value` (evicting the least recently used) unless it alone exceeds the budget. */
  set(id: string, value: T, bytes: number): boolean {
    this.delete(id);
    if (bytes > this.maxBytes) return false;
    this.entries.set(id, { value, bytes });
    this.used += bytes;
    while (this.used > this.maxBytes) this.delete(this.entries.keys().next().value as string);
    return true;
  }

  private delete(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.used -= entry.bytes;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.used;
  }
}
