/**
 * @aws-sdk/client-glue acceptance: ResourceNumberLimitExceededException from CreateMLTransform on a
 * server started with a small DOPPEL_MAX_TRANSFORMS (spec §2.5.1 step 3, §2.9).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateMLTransformCommand, DeleteMLTransformCommand, GlueClient, ListMLTransformsCommand } from '@aws-sdk/client-glue';
import { type TestServer } from '../support/server.js';
import {
  createCatalogTable,
  createTransform,
  expectGlueError,
  startGlueServer,
  stopGlueServer,
  uniqueName,
} from '../support/glue-client.js';

const LIMIT = 2;

let server: TestServer;
let glue: GlueClient;

before(async () => {
  ({ server, glue } = await startGlueServer({ env: { DOPPEL_MAX_TRANSFORMS: String(LIMIT) } }));
});

after(() => stopGlueServer({ server, glue }));

describe('DOPPEL_MAX_TRANSFORMS', () => {
  it('rejects the transform past the limit, and accepts one again after a delete', async () => {
    const first = await createTransform(glue);
    await createTransform(glue);
    const table = await createCatalogTable(glue);
    const name = uniqueName('over');
    const input = {
      Name: name,
      Role: 'GlueRole',
      InputRecordTables: [{ DatabaseName: table.database, TableName: table.table }],
      Parameters: { TransformType: 'FIND_MATCHES' as const, FindMatchesParameters: { PrimaryKeyColumnName: 'id' } },
    };
    await expectGlueError(glue.send(new CreateMLTransformCommand(input)), {
      name: 'ResourceNumberLimitExceededException',
      message: new RegExp(`^ML Transforms count \\(\\d+\\) has exceeded the limit of ${LIMIT} transforms\\.$`),
    });
    const listed = await glue.send(new ListMLTransformsCommand({}));
    assert.equal(listed.TransformIds?.length, LIMIT, 'the rejected transform was not stored');

    await glue.send(new DeleteMLTransformCommand({ TransformId: first.transformId }));
    const out = await glue.send(new CreateMLTransformCommand(input));
    assert.match(out.TransformId ?? '', /^tfm-[0-9a-f]{40}$/);
  });
});
