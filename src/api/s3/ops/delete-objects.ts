/** DeleteObjects (POST /bucket?delete): up to 1000 keys, each deleted or reported on its own. */
import { ObjectStoreError } from '../../../storage/object-store.js';
import { bucketOf, readXmlBody, type S3Call } from '../s3-call.js';
import { malformedXml } from '../s3-errors.js';
import { xmlResponse } from '../s3-response.js';
import { elementsOf, textOf, type XmlElement } from '../s3-xml.js';

const MAX_OBJECTS = 1000;

export async function deleteObjects(call: S3Call): Promise<Response> {
  const bucket = bucketOf(call);
  const document = await readXmlBody(call, 'Delete', ['Object']);
  const objects = elementsOf(document, 'Object');
  if (objects.length === 0) throw malformedXml('<Delete> needs at least one <Object>');
  if (objects.length > MAX_OBJECTS) throw malformedXml(`<Delete> takes at most ${MAX_OBJECTS} objects`);
  const quiet = textOf(document, 'Quiet')?.trim().toLowerCase() === 'true';
  const requested = objects.map((object) => {
    const key = textOf(object, 'Key');
    if (key === undefined) throw malformedXml('every <Object> needs a <Key>');
    return { key, versionId: textOf(object, 'VersionId') };
  });
  await call.store.requireBucket(bucket);

  const deleted: XmlElement[] = [];
  const errors: XmlElement[] = [];
  for (const { key, versionId } of requested) {
    if (versionId !== undefined && versionId !== 'null') {
      errors.push({ Key: key, VersionId: versionId, Code: 'NoSuchVersion', Message: 'The specified version does not exist.' });
      continue;
    }
    try {
      await call.store.deleteObject(bucket, key);
      if (!quiet) deleted.push({ Key: key });
    } catch (e) {
      if (!(e instanceof ObjectStoreError) || e.status >= 500) throw e;
      errors.push({ Key: key, Code: e.code, Message: e.message });
    }
  }
  return xmlResponse('DeleteResult', { Deleted: deleted, Error: errors });
}
