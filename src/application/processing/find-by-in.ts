/**
 * Documents whose `field` is one of `values`, in `$in` queries of at most `chunk` values: one
 * query per batch of a processor, not one per event (FerretDB answers each query slowly).
 */
import type { Doc, ReadModelStore } from '../ports/read-models.js';

export async function findByIn<T extends Doc>(store: ReadModelStore, collection: string, field: string, values: string[], chunk = 200): Promise<T[]> {
  const out: T[] = [];
  const unique = [...new Set(values)];
  for (let i = 0; i < unique.length; i += chunk) {
    out.push(...(await store.find<T>(collection, { [field]: { $in: unique.slice(i, i + chunk) } })));
  }
  return out;
}
