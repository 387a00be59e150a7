import type { Scope } from '../storage/records.js';
import type { MetadataStore } from '../storage/metadata-store.js';

/**
 * The resources that carry every tag in `wanted` with its value (the `Tags` filter of the List
 * operations, ListMLTransforms and ListJobs); all of them when `wanted` is absent or empty.
 */
export async function taggedWith<T>(
  store: MetadataStore,
  scope: Scope,
  resources: T[],
  arnOf: (resource: T) => string,
  wanted: Record<string, string> | undefined,
): Promise<T[]> {
  if (!wanted || Object.keys(wanted).length === 0) return resources;
  const kept: T[] = [];
  for (const resource of resources) {
    const tags = await store.getTags(scope, arnOf(resource));
    if (Object.entries(wanted).every(([key, value]) => tags[key] === value)) kept.push(resource);
  }
  return kept;
}
