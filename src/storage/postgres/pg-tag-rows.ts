/**
 * The `tags` table, shared by every kind of taggable resource: each store writes a resource's
 * tags in the same transaction as the resource itself.
 */
import type { Scope } from '../records.js';
import type { PgClient } from './pg-database.js';

/** Sets each of `tags` on the resource, replacing the value of a key it already has. */
export async function putTags(client: PgClient, scope: Scope, resourceArn: string, tags: Record<string, string>): Promise<void> {
  const entries = Object.entries(tags);
  if (entries.length === 0) return;
  await client.query(
    `INSERT INTO tags (account_id, region, resource_arn, tag_key, tag_value)
     SELECT $1, $2, $3, k, v FROM unnest($4::text[], $5::text[]) AS t(k, v)
     ON CONFLICT (account_id, region, resource_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
    [scope.accountId, scope.region, resourceArn, entries.map(([k]) => k), entries.map(([, v]) => v)],
  );
}

/** Removes every tag of a resource (when the resource itself is deleted). */
export async function deleteAllTags(client: PgClient, scope: Scope, resourceArn: string): Promise<void> {
  await client.query('DELETE FROM tags WHERE account_id = $1 AND region = $2 AND resource_arn = $3', [
    scope.accountId,
    scope.region,
    resourceArn,
  ]);
}
