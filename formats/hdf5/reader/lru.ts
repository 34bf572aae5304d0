/**
 * A small least-recently-used map with an entry bound and an optional weight bound, for the
 * native reader's metadata caches (memory stays flat however many objects are visited).
 *
 * @module
 */

/** A Map that drops its least recently used entries past `maxEntries` or `maxWeight`. */
export class Lru<K, V> {
  #map = new Map<K, { value: V; weight: number }>();
  #maxEntries: number;
  #maxWeight: number;
  #weight = 0;

  constructor(maxEntries: number, maxWeight = Infinity) {
    this.#maxEntries = maxEntries;
    this.#maxWeight = maxWeight;
  }

  /** The value at `key`, marked as most recently used. */
  get(key: K): V | undefined {
    const hit = this.#map.get(key);
    if (!hit) return undefined;
    this.#map.delete(key);
    this.#map.set(key, hit);
    return hit.value;
  }

  /** Stores `value`; `weight` counts against maxWeight (e.g. its bytes). */
  set(key: K, value: V, weight = 0): void {
    const old = this.#map.get(key);
    if (old) {
      this.#weight -= old.weight;
      this.#map.delete(key);
    }
    this.#map.set(key, { value, weight });
    this.#weight += weight;
    while (this.#map.size > this.#maxEntries || this.#weight > this.#maxWeight) {
      const [k, v] = this.#map.entries().next().value!;
      if (k === key) break;
      this.#map.delete(k);
      this.#weight -= v.weight;
    }
  }

  /** Entries held now. */
  get size(): number {
    return this.#map.size;
  }

  /** Drops everything. */
  clear(): void {
    this.#map.clear();
    this.#weight = 0;
  }
}
