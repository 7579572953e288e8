// Stored model versions never change, so a body read once serves every later request for that
// version; Postgres is still asked which version is the latest on each request, so a new model
// is used as soon as it is committed. Reading and parsing a model with its reference profile
// (hundreds of KB of JSON) on every /detect was most of that route's cost.
export class ModelCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly capacity = 32) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`model cache capacity must be a positive integer, got ${capacity}`);
  }

  get(id: string): T | undefined {
    const value = this.entries.get(id);
    if (value !== undefined) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.entries.delete(id);
      this.entries.set(id, value);
    }
    return value;
  }

  set(id: string, value: T): void {
    this.entries.delete(id);
    this.entries.set(id, value);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
