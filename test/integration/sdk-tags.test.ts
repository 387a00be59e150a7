/**
 * @aws-sdk/client-glue acceptance: TagResource, UntagResource, GetTags on ML-transform ARNs, tags on
 * create, the ListMLTransforms Tags filter and tag removal on delete (spec §3, §2.5.4).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateDatabaseCommand,
  DeleteMLTransformCommand,
  GetTagsCommand,
  GlueClient,
  ListMLTransformsCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-glue';
import { DEFAULT_ACCOUNT_ID, TEST_REGION, type TestServer } from '../support/server.js';
import {
  createTransform,
  expectGlueError,
  payloadKeys,
  startGlueServer,
  stopGlueServer,
  transformArn,
  uniqueName,
  validationMessage,
} from '../support/glue-client.js';

const MISSING_ARN = transformArn(`tfm-${'0'.repeat(40)}`);

let server: TestServer;
let glue: GlueClient;

before(async () => {
  ({ server, glue } = await startGlueServer());
});

after(() => stopGlueServer({ server, glue }));

async function tagsOf(arn: string): Promise<Record<string, string> | undefined> {
  return (await glue.send(new GetTagsCommand({ ResourceArn: arn }))).Tags;
}

const manyTags = (n: number, prefix = 'k') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `v${i}`]));

describe('TagResource / UntagResource / GetTags on ML transforms', () => {
  it('GetTags on an untagged transform returns an empty map', async () => {
    const { transformId } = await createTransform(glue);
    assert.deepEqual(await tagsOf(transformArn(transformId)), {});
  });

  it('adds, overwrites and removes tags; responses of Tag/Untag are empty', async () => {
    const { transformId } = await createTransform(glue, { Tags: { team: 'data', owner: 'alice' } });
    const arn = transformArn(transformId);
    assert.deepEqual(await tagsOf(arn), { team: 'data', owner: 'alice' });

    const tagged = await glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: { owner: 'bob', env: 'dev', empty: '' } }));
    assert.deepEqual(payloadKeys(tagged), []);
    assert.equal(tagged.$metadata.httpStatusCode, 200);
    assert.deepEqual(await tagsOf(arn), { team: 'data', owner: 'bob', env: 'dev', empty: '' });

    const untagged = await glue.send(new UntagResourceCommand({ ResourceArn: arn, TagsToRemove: ['team', 'not-there'] }));
    assert.deepEqual(payloadKeys(untagged), []);
    assert.deepEqual(await tagsOf(arn), { owner: 'bob', env: 'dev', empty: '' });

    await glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: {} }));
    await glue.send(new UntagResourceCommand({ ResourceArn: arn, TagsToRemove: [] }));
    assert.deepEqual(await tagsOf(arn), { owner: 'bob', env: 'dev', empty: '' });
  });

  it('keys are case-sensitive', async () => {
    const { transformId } = await createTransform(glue);
    const arn = transformArn(transformId);
    await glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: { Env: 'a', env: 'b' } }));
    assert.deepEqual(await tagsOf(arn), { Env: 'a', env: 'b' });
  });

  it('allows exactly 50 tags and rejects the 51st with InvalidInputException', async () => {
    const { transformId } = await createTransform(glue, { Tags: manyTags(30, 'a') });
    const arn = transformArn(transformId);
    await glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: manyTags(20, 'b') }));
    assert.equal(Object.keys((await tagsOf(arn)) ?? {}).length, 50);
    await glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: { a0: 'overwrite is not a new tag' } }));
    await expectGlueError(glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: { extra: 'x' } })), {
      name: 'InvalidInputException',
    });
    const current = (await tagsOf(arn)) ?? {};
    assert.equal(Object.keys(current).length, 50, 'a rejected TagResource changes nothing');
    assert.equal(current['extra'], undefined);
    assert.equal(current['a0'], 'overwrite is not a new tag');
  });

  it('rejects tag keys and values starting with "aws" (InvalidInputException)', async () => {
    const { transformId } = await createTransform(glue);
    const arn = transformArn(transformId);
    await expectGlueError(glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: { 'aws:owner': 'me' } })), {
      name: 'InvalidInputException',
    });
    assert.deepEqual(await tagsOf(arn), {});
  });

  it('answers ValidationException for model-constraint violations', async () => {
    const { transformId } = await createTransform(glue);
    const arn = transformArn(transformId);
    await expectGlueError(glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: manyTags(51) })), {
      name: 'ValidationException',
      message: validationMessage('tagsToAdd', 'Member must have length less than or equal to 50'),
    });
    await expectGlueError(glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: { ['k'.repeat(129)]: 'v' } })), {
      name: 'ValidationException',
      message: /validation errors? detected: .*tagsToAdd.*Member must have length less than or equal to 128/,
    });
    await expectGlueError(glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: { k: 'v'.repeat(257) } })), {
      name: 'ValidationException',
      message: /validation errors? detected: .*tagsToAdd.*Member must have length less than or equal to 256/,
    });
    await expectGlueError(glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: { '': 'v' } })), {
      name: 'ValidationException',
      message: /validation errors? detected: .*tagsToAdd.*Member must have length greater than or equal to 1/,
    });
    await expectGlueError(glue.send(new TagResourceCommand({ ResourceArn: arn } as never)), {
      name: 'ValidationException',
      message: validationMessage('tagsToAdd', 'Member must not be null'),
    });
    await expectGlueError(glue.send(new UntagResourceCommand({ ResourceArn: arn } as never)), {
      name: 'ValidationException',
      message: validationMessage('tagsToRemove', 'Member must not be null'),
    });
    await expectGlueError(glue.send(new UntagResourceCommand({ ResourceArn: arn, TagsToRemove: ['k'.repeat(129)] })), {
      name: 'ValidationException',
      message: /validation errors? detected: .*tagsToRemove.*Member must have length less than or equal to 128/,
    });
    await expectGlueError(glue.send(new GetTagsCommand({} as never)), {
      name: 'ValidationException',
      message: validationMessage('resourceArn', 'Member must not be null'),
    });
    for (const bad of ['arn:aws:s3:::my-bucket', 'not-an-arn']) {
      await expectGlueError(glue.send(new GetTagsCommand({ ResourceArn: bad })), {
        name: 'ValidationException',
        message: validationMessage('resourceArn', 'Member must satisfy regular expression pattern'),
      });
    }
  });

  it('answers EntityNotFoundException for the ARN of a transform that does not exist', async () => {
    await expectGlueError(glue.send(new GetTagsCommand({ ResourceArn: MISSING_ARN })), { name: 'EntityNotFoundException' });
    await expectGlueError(glue.send(new TagResourceCommand({ ResourceArn: MISSING_ARN, TagsToAdd: { a: 'b' } })), {
      name: 'EntityNotFoundException',
    });
    await expectGlueError(glue.send(new UntagResourceCommand({ ResourceArn: MISSING_ARN, TagsToRemove: ['a'] })), {
      name: 'EntityNotFoundException',
    });
  });

  it('answers InvalidInputException for an unsupported resource type or another partition, account or region in the ARN', async () => {
    const { transformId } = await createTransform(glue);
    const bad = [
      `arn:aws:glue:${TEST_REGION}:${DEFAULT_ACCOUNT_ID}:widget/${transformId}`,
      transformArn(transformId, 'eu-west-1'),
      transformArn(transformId, TEST_REGION, '999999999999'),
      transformArn(transformId).replace('arn:aws:', 'arn:aws-cn:'),
    ];
    for (const arn of bad) {
      await expectGlueError(glue.send(new GetTagsCommand({ ResourceArn: arn })), { name: 'InvalidInputException' });
      await expectGlueError(glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: { a: 'b' } })), {
        name: 'InvalidInputException',
      });
      await expectGlueError(glue.send(new UntagResourceCommand({ ResourceArn: arn, TagsToRemove: ['a'] })), {
        name: 'InvalidInputException',
      });
    }
  });
});

describe('tags and the transform lifecycle', () => {
  it('ListMLTransforms Tags filter follows TagResource/UntagResource (every key with the exact value)', async () => {
    const label = uniqueName('proj');
    const a = await createTransform(glue, { Tags: { project: label, tier: 'gold' } });
    const b = await createTransform(glue, { Tags: { project: label, tier: 'silver' } });
    const c = await createTransform(glue);

    const byProject = await glue.send(new ListMLTransformsCommand({ Tags: { project: label } }));
    assert.deepEqual(byProject.TransformIds, [a.transformId, b.transformId]);
    const gold = await glue.send(new ListMLTransformsCommand({ Tags: { project: label, tier: 'gold' } }));
    assert.deepEqual(gold.TransformIds, [a.transformId]);
    const wrongValue = await glue.send(new ListMLTransformsCommand({ Tags: { project: `${label}-x` } }));
    assert.deepEqual(wrongValue.TransformIds, []);

    await glue.send(new TagResourceCommand({ ResourceArn: transformArn(c.transformId), TagsToAdd: { project: label, tier: 'gold' } }));
    await glue.send(new UntagResourceCommand({ ResourceArn: transformArn(a.transformId), TagsToRemove: ['tier'] }));
    const goldNow = await glue.send(new ListMLTransformsCommand({ Tags: { project: label, tier: 'gold' } }));
    assert.deepEqual(goldNow.TransformIds, [c.transformId]);

    const withName = await glue.send(new ListMLTransformsCommand({ Tags: { project: label }, Filter: { Name: b.name } }));
    assert.deepEqual(withName.TransformIds, [b.transformId]);
  });

  it('DeleteMLTransform drops the tags; a new transform with the same name starts untagged', async () => {
    const label = uniqueName('gone');
    const { transformId, name } = await createTransform(glue, { Tags: { project: label } });
    await glue.send(new DeleteMLTransformCommand({ TransformId: transformId }));
    await expectGlueError(glue.send(new GetTagsCommand({ ResourceArn: transformArn(transformId) })), {
      name: 'EntityNotFoundException',
    });
    const listed = await glue.send(new ListMLTransformsCommand({ Tags: { project: label } }));
    assert.deepEqual(listed.TransformIds, []);
    const again = await createTransform(glue, { Name: name });
    assert.deepEqual(await tagsOf(transformArn(again.transformId)), {});
  });

  it('CreateDatabase Tags are readable through the database ARN', async () => {
    const name = uniqueName('tagdb');
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: name }, Tags: { owner: 'catalog-team' } }));
    const arn = `arn:aws:glue:${TEST_REGION}:${DEFAULT_ACCOUNT_ID}:database/${name}`;
    assert.deepEqual(await tagsOf(arn), { owner: 'catalog-team' });
  });
});
