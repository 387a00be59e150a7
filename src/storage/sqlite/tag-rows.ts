/**
 * The `tags` table, shared by every kind of taggable resource (transforms, databases, jobs): each
 * store writes a resource's tags in the same transaction as the resource itself.
 */
import type Database from 'better-sqlite3';
import type { Scope } from '../records.js';

/** Sets each of `tags` on the resource, replacing the value of a key it already has. */
export function putTags(db: Database.Database, scope: Scope, resourceArn: string, tags: Record<string, string>): void {
  const put = db.prepare(
    `INSERT INTO tags (account_id, region, resource_arn, tag_key, tag_value) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (account_id, region, resource_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
  );
  for (const [k, v] of Object.entries(tags)) put.run(scope.accountId, scope.region, resourceArn, k, v);
}

/** Removes every tag of a resource (when the resource itself is deleted). */
export function deleteAllTags(db: Database.Database, scope: Scope, resourceArn: string): void {
  db.prepare('DELETE FROM tags WHERE account_id = ? AND region = ? AND resource_arn = ?').run(
    scope.accountId,
    scope.region,
    resourceArn,
  );
}
