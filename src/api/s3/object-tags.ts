/**
 * Object tags on the wire: the x-amz-tagging header (PutObject, CopyObject, CreateMultipartUpload)
 * and the <Tagging> document (PutObjectTagging), checked against S3's limits.
 */
import { decodeTagging, type ObjectTag } from '../../storage/object-store.js';
import { malformedXml, S3Error } from './s3-errors.js';
import { elementsOf, textOf } from './s3-xml.js';

const MAX_TAGS = 10;
const MAX_KEY_CHARS = 128;
const MAX_VALUE_CHARS = 256;

const invalidTag = (message: string, tag: ObjectTag) =>
  new S3Error('InvalidTag', message, 400, { TagKey: tag.key, TagValue: tag.value });

/** The tags of an x-amz-tagging header (URL-encoded `key=value&…`), checked. */
export function tagsOfHeader(tagging: string): ObjectTag[] {
  return checkedTags(decodeTagging(tagging));
}

/** The tags of a PutObjectTagging document `<Tagging><TagSet><Tag><Key/><Value/></Tag>…`, checked. */
export function tagsOfDocument(document: Record<string, unknown>): ObjectTag[] {
  const tagSet = document['TagSet'];
  if (tagSet === undefined) throw malformedXml('<Tagging> needs a <TagSet>');
  const tags = typeof tagSet === 'object' && tagSet !== null ? elementsOf(tagSet as Record<string, unknown>, 'Tag') : [];
  return checkedTags(
    tags.map((tag) => {
      const key = textOf(tag, 'Key');
      const value = textOf(tag, 'Value');
      if (key === undefined || value === undefined) throw malformedXml('every <Tag> needs a <Key> and a <Value>');
      return { key, value };
    }),
  );
}

/**
 * S3's limits: at most 10 tags with distinct keys, keys of 1 to 128 characters that do not start
 * with `aws:` (system tags), values of at most 256 characters.
 */
function checkedTags(tags: ObjectTag[]): ObjectTag[] {
  if (tags.length > MAX_TAGS) throw invalidTag(`Object tags cannot be greater than ${MAX_TAGS}`, tags[MAX_TAGS]!);
  const seen = new Set<string>();
  for (const tag of tags) {
    const keyChars = [...tag.key].length;
    if (keyChars === 0) throw invalidTag('The TagKey you have provided is invalid', tag);
    if (keyChars > MAX_KEY_CHARS) throw invalidTag(`The TagKey you have provided is too long, max ${MAX_KEY_CHARS}`, tag);
    if ([...tag.value].length > MAX_VALUE_CHARS) throw invalidTag(`The TagValue you have provided is too long, max ${MAX_VALUE_CHARS}`, tag);
    if (tag.key.toLowerCase().startsWith('aws:')) throw invalidTag('Your TagKey cannot be prefixed with aws:', tag);
    if (seen.has(tag.key)) throw invalidTag('Cannot provide multiple Tags with the same key', tag);
    seen.add(tag.key);
  }
  return tags;
}
