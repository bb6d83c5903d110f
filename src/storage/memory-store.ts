import type { Store } from '../core/environment.js';

/**
 * The store for `storage: 'memory'` and for tests: same contract as the IndexedDB store,
 * values cloned on the way in and out so callers cannot share mutable state with it.
 */
export function createMemoryStore(): Store & { readonly size: number } {
  const data = new Map<string, unknown>();
  return {
    get size() {
      return data.size;
    },
    getMany: async (keys) => keys.map((k) => (data.has(k) ? structuredClone(data.get(k)) : undefined)),
    setMany: async (entries) => {
      const cloned = entries.map(([k, v]) => [k, structuredClone(v)] as const);
      for (const [k, v] of cloned) data.set(k, v);
    },
    delMany: async (keys) => {
      for (const k of keys) data.delete(k);
    },
    keys: async () => [...data.keys()],
  };
}
