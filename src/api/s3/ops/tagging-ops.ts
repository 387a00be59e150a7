/** GetObjectTagging, PutObjectTagging, DeleteObjectTagging. */
import { tagsOfDocument } from '../object-tags.js';
import { bucketOf, keyOf, readXmlBody, type S3Call } from '../s3-call.js';
import { emptyResponse, xmlResponse } from '../s3-response.js';

export async function getObjectTagging(call: S3Call): Promise<Response> {
  const tags = await call.store.getObjectTagging(bucketOf(call), keyOf(call));
  return xmlResponse('Tagging', { TagSet: { Tag: tags.map((tag) => ({ Key: tag.key, Value: tag.value })) } });
}

/** Replaces all of the object's tags with those of the document. */
export async function putObjectTagging(call: S3Call): Promise<Response> {
  const tags = tagsOfDocument(await readXmlBody(call, 'Tagging', ['Tag']));
  await call.store.putObjectTagging(bucketOf(call), keyOf(call), tags);
  return emptyResponse(200);
}

export async function deleteObjectTagging(call: S3Call): Promise<Response> {
  await call.store.putObjectTagging(bucketOf(call), keyOf(call), []);
  return emptyResponse(204);
}
