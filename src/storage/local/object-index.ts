/**
 * The embedded store's index in SQLite (`<root>/index.sqlite`, WAL, synchronous=FULL): buckets,
 * objects, multipart uploads and their parts, each object or part pointing at a blob file.
 *
 * Keys are stored as BLOBs of their UTF-8 bytes, so `ORDER BY key` and range conditions are byte
 * comparisons (memcmp), which is S3's listing order. synchronous=FULL because the store unlinks an
 * object's old blob right after the transaction that replaced it commits: that commit must survive a
 * power loss, or the index could come back pointing at a blob that is gone.
 *
 * Every method is synchronous and each mutating one is a single transaction.
 */
import Database from 'better-sqlite3';

const SCHEMA_VERSION = 4;

/**
 * Uploads completed lately, with the object they made: S3 answers a repeated
 * CompleteMultipartUpload of a completed upload with that object's ETag (see completedUpload).
 */
const COMPLETED_UPLOADS = `
CREATE TABLE completed_uploads (
  upload_id TEXT PRIMARY KEY,
  bucket TEXT NOT NULL,
  key BLOB NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  completed INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX completed_uploads_by_time ON completed_uploads (completed);
`;

/** ListMultipartUploads pages through a bucket's uploads in this order (see uploadsAfter). */
const UPLOADS_IN_LISTING_ORDER = 'CREATE INDEX uploads_in_listing_order ON uploads (bucket, key, initiated, upload_id);';

/** How long a completed upload's id is remembered (S3 documents no period; an SDK retry comes within seconds). */
export const COMPLETED_UPLOAD_MEMORY_MS = 60 * 60 * 1000;

const SCHEMA = `
CREATE TABLE buckets (
  name TEXT PRIMARY KEY,
  created_on INTEGER NOT NULL,
  owner TEXT NOT NULL,
  region TEXT
) WITHOUT ROWID;

CREATE TABLE objects (
  bucket TEXT NOT NULL REFERENCES buckets(name),
  key BLOB NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  content_type TEXT,
  metadata TEXT,
  headers TEXT,
  last_modified INTEGER NOT NULL,
  blob TEXT NOT NULL,
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;

CREATE TABLE uploads (
  upload_id TEXT PRIMARY KEY,
  bucket TEXT NOT NULL REFERENCES buckets(name),
  key BLOB NOT NULL,
  content_type TEXT,
  metadata TEXT,
  headers TEXT,
  initiated INTEGER NOT NULL
) WITHOUT ROWID;
${UPLOADS_IN_LISTING_ORDER}

CREATE TABLE parts (
  upload_id TEXT NOT NULL REFERENCES uploads(upload_id),
  part_number INTEGER NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  headers TEXT,
  last_modified INTEGER NOT NULL,
  blob TEXT NOT NULL,
  PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
${COMPLETED_UPLOADS}`;

export interface ObjectRow {
  key: Buffer;
  size: number;
  etag: string;
  content_type: string | null;
  metadata: string | null;
  /** JSON of the stored S3 headers (see PutOptions.headers). */
  headers: string | null;
  last_modified: number;
  blob: string;
}

export interface UploadRow {
  upload_id: string;
  bucket: string;
  key: Buffer;
  content_type: string | null;
  metadata: string | null;
  headers: string | null;
  initiated: number;
}

export interface PartRow {
  part_number: number;
  size: number;
  etag: string;
  headers: string | null;
  last_modified: number;
  blob: string;
}

export interface NewObject {
  bucket: string;
  key: Buffer;
  size: number;
  etag: string;
  contentType: string | null;
  metadata: string | null;
  headers: string | null;
  lastModified: number;
  blob: string;
}

/** Why a mutation did not happen; the store turns these into S3 errors. */
export type Refusal =
  | 'no-such-bucket'
  | 'bucket-exists'
  | 'bucket-of-another-owner'
  | 'bucket-not-empty'
  | 'no-such-upload'
  | 'access-denied'
  | 'no-such-key'
  | 'if-match-failed'
  | 'if-none-match-failed';

/** What the index checks inside a write's transaction (see WriteConditions in object-store.ts). */
export interface WriteGuard {
  /** The account that must own the bucket. */
  owner?: string;
  /** The ETag the key's object must have, unquoted; `*`: any object. */
  ifMatch?: string;
  /** The key must have no object. */
  ifNoneMatch?: boolean;
}

export interface BucketRow {
  name: string;
  createdOn: number;
  owner: string;
  /** Null for the default region (and for buckets from before regions). */
  region: string | null;
}

export interface CompletedUploadRow {
  bucket: string;
  key: Buffer;
  size: number;
  etag: string;
  completed: number;
}

export interface ObjectIndexOptions {
  /**
   * The account that owns buckets with no recorded owner: those of an index written before buckets
   * had owners (schema version 1) are given to it when the index is first opened after the upgrade.
   */
  defaultBucketOwner?: string;
}

export class ObjectIndex {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(path: string, options: ObjectIndexOptions = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    try {
      this.migrate(options.defaultBucketOwner);
    } catch (e) {
      this.db.close();
      throw e;
    }
    const db = this.db;
    this.stmt = {
      bucket: db.prepare<[string], BucketColumns>('SELECT name, created_on, owner, region FROM buckets WHERE name = ?'),
      buckets: db.prepare<[], BucketColumns>('SELECT name, created_on, owner, region FROM buckets ORDER BY name'),
      insertBucket: db.prepare<[string, number, string, string | null]>(
        'INSERT INTO buckets (name, created_on, owner, region) VALUES (?, ?, ?, ?)',
      ),
      deleteBucket: db.prepare<[string]>('DELETE FROM buckets WHERE name = ?'),
      anyObject: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM objects WHERE bucket = ? LIMIT 1'),
      uploadsOfBucket: db.prepare<[string], { upload_id: string }>('SELECT upload_id FROM uploads WHERE bucket = ?'),

      object: db.prepare<[string, Buffer], ObjectRow>(
        'SELECT key, size, etag, content_type, metadata, headers, last_modified, blob FROM objects WHERE bucket = ? AND key = ?',
      ),
      upsertObject: db.prepare<[string, Buffer, number, string, string | null, string | null, string | null, number, string]>(
        `INSERT INTO objects (bucket, key, size, etag, content_type, metadata, headers, last_modified, blob)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size, etag = excluded.etag,
           content_type = excluded.content_type, metadata = excluded.metadata, headers = excluded.headers,
           last_modified = excluded.last_modified, blob = excluded.blob`,
      ),
      deleteObject: db.prepare<[string, Buffer]>('DELETE FROM objects WHERE bucket = ? AND key = ?'),
      updateObjectHeaders: db.prepare<[string | null, string, Buffer]>('UPDATE objects SET headers = ? WHERE bucket = ? AND key = ?'),
      rangeFrom: db.prepare<[string, Buffer, number], ObjectRow>(
        `SELECT key, size, etag, content_type, metadata, headers, last_modified, blob FROM objects
         WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?`,
      ),
      rangeBetween: db.prepare<[string, Buffer, Buffer, number], ObjectRow>(
        `SELECT key, size, etag, content_type, metadata, headers, last_modified, blob FROM objects
         WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
      ),

      upload: db.prepare<[string], UploadRow>(
        'SELECT upload_id, bucket, key, content_type, metadata, headers, initiated FROM uploads WHERE upload_id = ?',
      ),
      insertUpload: db.prepare<[string, string, Buffer, string | null, string | null, string | null, number]>(
        'INSERT INTO uploads (upload_id, bucket, key, content_type, metadata, headers, initiated) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      deleteUpload: db.prepare<[string]>('DELETE FROM uploads WHERE upload_id = ?'),
      part: db.prepare<[string, number], PartRow>(
        'SELECT part_number, size, etag, headers, last_modified, blob FROM parts WHERE upload_id = ? AND part_number = ?',
      ),
      parts: db.prepare<[string], PartRow>(
        'SELECT part_number, size, etag, headers, last_modified, blob FROM parts WHERE upload_id = ? ORDER BY part_number',
      ),
      partsAfter: db.prepare<[string, number, number], PartRow>(
        `SELECT part_number, size, etag, headers, last_modified, blob FROM parts
         WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?`,
      ),
      upsertPart: db.prepare<[string, number, number, string, string | null, number, string]>(
        `INSERT INTO parts (upload_id, part_number, size, etag, headers, last_modified, blob) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag, headers = excluded.headers,
           last_modified = excluded.last_modified, blob = excluded.blob`,
      ),
      deleteParts: db.prepare<[string]>('DELETE FROM parts WHERE upload_id = ?'),
      // Listing order is (key, initiated, upload_id), the index uploads_in_listing_order: a page
      // resumes strictly after a position in it and reads only its own rows.
      uploadsAfter: db.prepare<[string, Buffer, number, string, number], UploadRow>(
        `SELECT upload_id, bucket, key, content_type, metadata, headers, initiated FROM uploads
         WHERE bucket = ? AND (key, initiated, upload_id) > (?, ?, ?)
         ORDER BY key, initiated, upload_id LIMIT ?`,
      ),
      uploadsAfterBelow: db.prepare<[string, Buffer, number, string, Buffer, number], UploadRow>(
        `SELECT upload_id, bucket, key, content_type, metadata, headers, initiated FROM uploads
         WHERE bucket = ? AND (key, initiated, upload_id) > (?, ?, ?) AND key < ?
         ORDER BY key, initiated, upload_id LIMIT ?`,
      ),
      completedUpload: db.prepare<[string], CompletedUploadRow>(
        'SELECT bucket, key, size, etag, completed FROM completed_uploads WHERE upload_id = ?',
      ),
      insertCompletedUpload: db.prepare<[string, string, Buffer, number, string, number]>(
        'INSERT OR REPLACE INTO completed_uploads (upload_id, bucket, key, size, etag, completed) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      forgetCompletedUploads: db.prepare<[number]>('DELETE FROM completed_uploads WHERE completed < ?'),
      uploadsInitiatedBefore: db.prepare<[number], { upload_id: string }>(
        'SELECT upload_id FROM uploads WHERE initiated < ? ORDER BY initiated',
      ),

      referencedBlobs: db.prepare<[], { blob: string }>('SELECT blob FROM objects UNION ALL SELECT blob FROM parts'),
    };
  }

  close(): void {
    this.db.close();
  }

  // Buckets ---------------------------------------------------------------------------------------

  bucket(name: string): BucketRow | undefined {
    const row = this.stmt.bucket.get(name);
    return row && toBucketRow(row);
  }

  buckets(): BucketRow[] {
    return this.stmt.buckets.all().map(toBucketRow);
  }

  /** `region` null: the default region. */
  createBucket(name: string, createdOn: number, owner: string, region: string | null): Refusal | undefined {
    return this.tx(() => {
      const existing = this.stmt.bucket.get(name);
      if (existing) return existing.owner === owner ? 'bucket-exists' : 'bucket-of-another-owner';
      this.stmt.insertBucket.run(name, createdOn, owner, region);
      return undefined;
    });
  }

  /** Deletes an empty bucket and any multipart uploads still open in it; returns their part blobs. */
  deleteBucket(name: string, owner?: string): Refusal | { partBlobs: string[] } {
    return this.tx(() => {
      const refusal = this.bucketRefusal(name, owner);
      if (refusal) return refusal;
      if (this.stmt.anyObject.get(name)) return 'bucket-not-empty';
      const partBlobs: string[] = [];
      for (const { upload_id } of this.stmt.uploadsOfBucket.all(name)) {
        partBlobs.push(...this.stmt.parts.all(upload_id).map((part) => part.blob));
        this.stmt.deleteParts.run(upload_id);
        this.stmt.deleteUpload.run(upload_id);
      }
      this.stmt.deleteBucket.run(name);
      return { partBlobs };
    });
  }

  // Objects ---------------------------------------------------------------------------------------

  object(bucket: string, key: Buffer): ObjectRow | undefined {
    return this.stmt.object.get(bucket, key);
  }

  /** Points (bucket, key) at a new blob, if `guard` holds; returns the blob it pointed at before, if any. */
  putObject(row: NewObject, guard: WriteGuard = {}): Refusal | { replacedBlob?: string } {
    return this.tx(() => this.guardRefusal(row.bucket, row.key, guard) ?? { replacedBlob: this.pointKeyAt(row) });
  }

  /** NoSuchBucket, or AccessDenied when `owner` is given and does not own the bucket (inside a transaction). */
  private bucketRefusal(bucket: string, owner: string | undefined): Refusal | undefined {
    const row = this.stmt.bucket.get(bucket);
    if (!row) return 'no-such-bucket';
    if (owner !== undefined && row.owner !== owner) return 'access-denied';
    return undefined;
  }

  /** Why a write to (bucket, key) guarded by `guard` must not happen (inside a transaction), if it must not. */
  private guardRefusal(bucket: string, key: Buffer, guard: WriteGuard): Refusal | undefined {
    const refusal = this.bucketRefusal(bucket, guard.owner);
    if (refusal || (guard.ifMatch === undefined && !guard.ifNoneMatch)) return refusal;
    const current = this.stmt.object.get(bucket, key);
    if (guard.ifNoneMatch && current) return 'if-none-match-failed';
    if (guard.ifMatch !== undefined) {
      if (!current) return 'no-such-key';
      if (guard.ifMatch !== '*' && guard.ifMatch !== current.etag.replace(/^"|"$/g, '')) return 'if-match-failed';
    }
    return undefined;
  }

  /** Points the object row's key at its blob (inside a transaction); returns the blob it pointed at before. */
  private pointKeyAt(row: NewObject): string | undefined {
    const old = this.stmt.object.get(row.bucket, row.key);
    this.stmt.upsertObject.run(
      row.bucket,
      row.key,
      row.size,
      row.etag,
      row.contentType,
      row.metadata,
      row.headers,
      row.lastModified,
      row.blob,
    );
    return old?.blob;
  }

  /**
   * Rewrites an object's headers JSON with `update` in one transaction (bytes, ETag and date stay);
   * 'no-such-key' when there is no such object.
   */
  updateObjectHeaders(bucket: string, key: Buffer, update: (headers: string | null) => string | null): Refusal | 'no-such-key' | undefined {
    return this.tx(() => {
      if (!this.stmt.bucket.get(bucket)) return 'no-such-bucket';
      const row = this.stmt.object.get(bucket, key);
      if (!row) return 'no-such-key';
      this.stmt.updateObjectHeaders.run(update(row.headers), bucket, key);
      return undefined;
    });
  }

  /** Removes (bucket, key), if `guard` holds; returns the blob it pointed at, if it existed. */
  deleteObject(bucket: string, key: Buffer, guard: WriteGuard = {}): Refusal | { removedBlob?: string } {
    return this.tx(() => {
      const refusal = this.guardRefusal(bucket, key, guard);
      if (refusal) return refusal;
      const old = this.stmt.object.get(bucket, key);
      if (old) this.stmt.deleteObject.run(bucket, key);
      return { removedBlob: old?.blob };
    });
  }

  /** Up to `limit` objects with `from <= key < below` (no upper limit when `below` is undefined). */
  objectsInRange(bucket: string, from: Buffer, below: Buffer | undefined, limit: number): ObjectRow[] {
    return below === undefined
      ? this.stmt.rangeFrom.all(bucket, from, limit)
      : this.stmt.rangeBetween.all(bucket, from, below, limit);
  }

  // Multipart uploads -----------------------------------------------------------------------------

  /** Records a new upload, if the bucket exists (and `owner`, when given, owns it). */
  createUpload(upload: UploadRow, owner?: string): Refusal | undefined {
    return this.tx(() => {
      const refusal = this.bucketRefusal(upload.bucket, owner);
      if (refusal) return refusal;
      this.stmt.insertUpload.run(
        upload.upload_id,
        upload.bucket,
        upload.key,
        upload.content_type,
        upload.metadata,
        upload.headers,
        upload.initiated,
      );
      return undefined;
    });
  }

  upload(uploadId: string): UploadRow | undefined {
    return this.stmt.upload.get(uploadId);
  }

  /**
   * Up to `limit` uploads of `bucket` after `position` in listing order (key, initiation, id), with
   * keys below `below` (no upper limit when undefined).
   */
  uploadsAfter(bucket: string, position: UploadPosition, below: Buffer | undefined, limit: number): UploadRow[] {
    const { key, initiated, uploadId } = position;
    return below === undefined
      ? this.stmt.uploadsAfter.all(bucket, key, initiated, uploadId, limit)
      : this.stmt.uploadsAfterBelow.all(bucket, key, initiated, uploadId, below, limit);
  }

  /** Ids of the uploads initiated before `time` (epoch ms), oldest first. */
  uploadsInitiatedBefore(time: number): string[] {
    return this.stmt.uploadsInitiatedBefore.all(time).map((row) => row.upload_id);
  }

  parts(uploadId: string): PartRow[] {
    return this.stmt.parts.all(uploadId);
  }

  /** Up to `limit` parts numbered above `after`, by number. */
  partsAfter(uploadId: string, after: number, limit: number): PartRow[] {
    return this.stmt.partsAfter.all(uploadId, after, limit);
  }

  /** A completed upload remembered since `since` (epoch ms): the object it made. */
  completedUpload(uploadId: string, since: number): CompletedUploadRow | undefined {
    const row = this.stmt.completedUpload.get(uploadId);
    return row && row.completed >= since ? row : undefined;
  }

  /** Records a part (replacing one with the same number); returns the replaced part's blob. */
  putPart(uploadId: string, part: PartRow): Refusal | { replacedBlob?: string } {
    return this.tx(() => {
      if (!this.stmt.upload.get(uploadId)) return 'no-such-upload';
      const old = this.stmt.part.get(uploadId, part.part_number);
      this.stmt.upsertPart.run(uploadId, part.part_number, part.size, part.etag, part.headers, part.last_modified, part.blob);
      return { replacedBlob: old?.blob };
    });
  }

  /** Forgets an upload and its parts; returns the part blobs to remove. */
  deleteUpload(uploadId: string): Refusal | { partBlobs: string[] } {
    return this.tx(() => {
      if (!this.stmt.upload.get(uploadId)) return 'no-such-upload';
      return { partBlobs: this.dropUpload(uploadId) };
    });
  }

  /** Removes an upload's rows and its parts' rows (inside a transaction); returns the part blobs. */
  private dropUpload(uploadId: string): string[] {
    const partBlobs = this.stmt.parts.all(uploadId).map((part) => part.blob);
    this.stmt.deleteParts.run(uploadId);
    this.stmt.deleteUpload.run(uploadId);
    return partBlobs;
  }

  /**
   * Completes an upload in one transaction, if `guard` holds: the object row now points at the
   * assembled blob, the upload is gone and its id is remembered with the object's ETag (ids
   * remembered before `forgetBefore` are forgotten). Returns the part blobs and the object's
   * previous blob, to remove afterwards.
   */
  completeUpload(
    uploadId: string,
    row: NewObject,
    guard: WriteGuard,
    forgetBefore: number,
  ): Refusal | { partBlobs: string[]; replacedBlob?: string } {
    return this.tx(() => {
      if (!this.stmt.upload.get(uploadId)) return 'no-such-upload';
      const refusal = this.guardRefusal(row.bucket, row.key, guard);
      if (refusal) return refusal;
      const partBlobs = this.dropUpload(uploadId);
      this.stmt.forgetCompletedUploads.run(forgetBefore);
      this.stmt.insertCompletedUpload.run(uploadId, row.bucket, row.key, row.size, row.etag, row.lastModified);
      return { partBlobs, replacedBlob: this.pointKeyAt(row) };
    });
  }

  /** Every blob id the index refers to (to find blobs orphaned by a crash). */
  referencedBlobs(): Set<string> {
    return new Set(this.stmt.referencedBlobs.all().map((row) => row.blob));
  }

  private tx<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  private migrate(defaultBucketOwner: string | undefined): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new Error(`object index schema version ${version} is newer than this doppel understands (${SCHEMA_VERSION})`);
    }
    if (version === 1 && defaultBucketOwner === undefined) {
      throw new Error('the object index predates bucket owners: it must be opened with the owner of its buckets');
    }
    this.db.transaction(() => {
      if (version === 0) {
        this.db.exec(SCHEMA);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
        return;
      }
      if (version === 1) {
        // Version 1 had no owners: one account takes every existing bucket (see ObjectIndexOptions).
        this.db.exec("ALTER TABLE buckets ADD COLUMN owner TEXT NOT NULL DEFAULT ''");
        this.db.prepare('UPDATE buckets SET owner = ?').run(defaultBucketOwner);
      }
      if (version <= 2) {
        // Version 3 keeps a bucket's region and the S3 headers stored with objects, uploads and parts.
        this.db.exec(`ALTER TABLE buckets ADD COLUMN region TEXT;
          ALTER TABLE objects ADD COLUMN headers TEXT;
          ALTER TABLE uploads ADD COLUMN headers TEXT;
          ALTER TABLE parts ADD COLUMN headers TEXT;`);
      }
      if (version <= 3) {
        // Version 4 remembers completed uploads (a repeated CompleteMultipartUpload answers their
        // object) and lists uploads by an index in listing order, which covers the one by bucket.
        this.db.exec(`${COMPLETED_UPLOADS}
          ${UPLOADS_IN_LISTING_ORDER}
          DROP INDEX uploads_by_bucket;`);
      }
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }
}

/** A place in the uploads' listing order: (key, initiation, upload id). */
export interface UploadPosition {
  key: Buffer;
  initiated: number;
  uploadId: string;
}

interface BucketColumns {
  name: string;
  created_on: number;
  owner: string;
  region: string | null;
}

const toBucketRow = (row: BucketColumns): BucketRow => ({
  name: row.name,
  createdOn: row.created_on,
  owner: row.owner,
  region: row.region,
});
