/**
 * Stands in for `mnemonist/lru-cache` in the Lambda bundles (an esbuild alias, see
 * `infra/constructs/valence-function.ts`); never imported by our code.
 *
 * The DynamoDB client builds an endpoint-discovery cache (`@aws-sdk/endpoint-cache`) on mnemonist's LRU cache,
 * which brings ~6 KB of typed-array and iterator helpers into every bundle for the five methods the cache calls.
 * A `Map` keeps insertion order, which is all a least-recently-used cache needs: a read moves the key to the end,
 * and a write past the capacity evicts the first key.
 */
export default class LRUCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {
    if (!(capacity > 0)) throw new Error(`an LRU cache needs a positive capacity, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** The value, without making it the most recently used. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key) as V;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): this {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
    return this;
  }

  clear(): void {
    this.entries.clear();
  }
}
