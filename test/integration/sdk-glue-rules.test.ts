/**
 * @aws-sdk/client-glue: the rules of CreateMLTransform, UpdateMLTransform, CreateJob, UpdateJob and
 * StartJobRun that the API reference states beyond the model's constraints (worker types and Glue
 * versions of ML transforms, capacity settings that exclude each other, security configurations),
 * and tags on jobs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateJobCommand,
  DeleteJobCommand,
  GetJobCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  GetTagsCommand,
  GlueClient,
  StartJobRunCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateJobCommand,
  UpdateMLTransformCommand,
  type CreateJobCommandInput,
  type WorkerType,
} from '@aws-sdk/client-glue';
import {
  createTransform,
  expectGlueError,
  getTransform,
  startGlueServer,
  stopGlueServer,
  uniqueName,
} from '../support/glue-client.js';
import { DEFAULT_ACCOUNT_ID, TEST_REGION, type TestServer } from '../support/server.js';

const ROLE = 'arn:aws:iam::123456789012:role/GlueRole';
const jobArn = (name: string) => `arn:aws:glue:${TEST_REGION}:${DEFAULT_ACCOUNT_ID}:job/${name}`;

let server: TestServer;
let glue: GlueClient;

before(async () => {
  ({ server, glue } = await startGlueServer());
});

after(() => stopGlueServer({ server, glue }));

describe('ML transforms: worker types, Glue versions, capacity, security configuration', () => {
  it('accepts the worker types of ML transforms (Standard, G.1X, G.2X) and derives MaxCapacity', async () => {
    for (const [workerType, maxCapacity] of [['Standard', 3], ['G.1X', 3], ['G.2X', 6]] as const) {
      const { transformId } = await createTransform(glue, { WorkerType: workerType, NumberOfWorkers: 3 });
      const t = await getTransform(glue, transformId);
      assert.equal(t.WorkerType, workerType);
      assert.equal(t.MaxCapacity, maxCapacity);
    }
  });

  it('refuses the worker types of jobs only (G.025X, G.4X, G.8X, Z.2X), naming the accepted ones', async () => {
    for (const workerType of ['G.025X', 'G.4X', 'G.8X', 'Z.2X'] as WorkerType[]) {
      await expectGlueError(createTransform(glue, { WorkerType: workerType, NumberOfWorkers: 2 }), {
        name: 'InvalidInputException',
        message: `WorkerType ${workerType} is not supported for ML transforms: use Standard, G.1X, G.2X.`,
      });
    }
    const { transformId } = await createTransform(glue, { WorkerType: 'G.1X', NumberOfWorkers: 2 });
    await expectGlueError(glue.send(new UpdateMLTransformCommand({ TransformId: transformId, WorkerType: 'G.8X' })), {
      name: 'InvalidInputException',
      message: 'WorkerType G.8X is not supported for ML transforms: use Standard, G.1X, G.2X.',
    });
    assert.equal((await getTransform(glue, transformId)).WorkerType, 'G.1X');
  });

  it('accepts Glue versions 0.9, 1.0 and 2.0 and refuses others on create and update', async () => {
    for (const version of ['0.9', '1.0', '2.0']) {
      const { transformId } = await createTransform(glue, { GlueVersion: version });
      assert.equal((await getTransform(glue, transformId)).GlueVersion, version);
    }
    for (const version of ['9.9', '3.0', '4.0']) {
      await expectGlueError(createTransform(glue, { GlueVersion: version }), {
        name: 'InvalidInputException',
        message: `GlueVersion ${version} is not supported for ML transforms: use 0.9, 1.0, 2.0.`,
      });
    }
    const { transformId } = await createTransform(glue, { GlueVersion: '1.0' });
    await expectGlueError(glue.send(new UpdateMLTransformCommand({ TransformId: transformId, GlueVersion: '9.9' })), {
      name: 'InvalidInputException',
      message: 'GlueVersion 9.9 is not supported for ML transforms: use 0.9, 1.0, 2.0.',
    });
    assert.equal((await getTransform(glue, transformId)).GlueVersion, '1.0');
  });

  it('refuses MaxCapacity on a transform sized by workers, keeping WorkerType and NumberOfWorkers', async () => {
    const { transformId } = await createTransform(glue, { WorkerType: 'G.2X', NumberOfWorkers: 4 });
    await expectGlueError(glue.send(new UpdateMLTransformCommand({ TransformId: transformId, MaxCapacity: 20 })), {
      name: 'InvalidInputException',
      message:
        'MaxCapacity cannot be set on this transform: it is sized by WorkerType (G.2X) and NumberOfWorkers, ' +
        'from which MaxCapacity is derived. Update WorkerType and NumberOfWorkers instead.',
    });
    const t = await getTransform(glue, transformId);
    assert.deepEqual([t.WorkerType, t.NumberOfWorkers, t.MaxCapacity], ['G.2X', 4, 8]);

    await glue.send(new UpdateMLTransformCommand({ TransformId: transformId, NumberOfWorkers: 5 }));
    const resized = await getTransform(glue, transformId);
    assert.deepEqual([resized.WorkerType, resized.NumberOfWorkers, resized.MaxCapacity], ['G.2X', 5, 10]);
  });

  it('refuses a TaskRunSecurityConfigurationName with EntityNotFoundException (there are no security configurations)', async () => {
    const name = uniqueName('xform');
    await expectGlueError(
      createTransform(glue, { Name: name, TransformEncryption: { TaskRunSecurityConfigurationName: 'sec-config' } }),
      {
        name: 'EntityNotFoundException',
        message:
          'Security configuration sec-config not found (TransformEncryption.TaskRunSecurityConfigurationName): ' +
          'doppel has no security configurations (CreateSecurityConfiguration is not implemented), so leave it out.',
      },
    );
  });
});

function jobInput(patch: Partial<CreateJobCommandInput> = {}): CreateJobCommandInput {
  return { Name: uniqueName('job'), Role: ROLE, Command: { Name: 'glueetl', ScriptLocation: 's3://scripts/etl.py' }, ...patch };
}

describe('jobs: capacity, timeout, execution class, security configuration', () => {
  const refusals: Array<{ title: string; patch: Partial<CreateJobCommandInput>; message: string | RegExp; name?: string }> = [
    {
      title: 'MaxCapacity with WorkerType and NumberOfWorkers',
      patch: { MaxCapacity: 10, WorkerType: 'G.1X', NumberOfWorkers: 2 },
      message: 'Do not set MaxCapacity if using WorkerType and NumberOfWorkers.',
    },
    {
      title: 'AllocatedCapacity with MaxCapacity',
      patch: { AllocatedCapacity: 10, MaxCapacity: 10 },
      message: 'Please set only Allocated Capacity or Max Capacity',
    },
    {
      title: 'WorkerType without NumberOfWorkers',
      patch: { WorkerType: 'G.1X' },
      message: 'Both WorkerType and NumberOfWorkers should be set.',
    },
    {
      title: 'a fractional MaxCapacity for a Spark job',
      patch: { MaxCapacity: 2.5 },
      message: 'MaxCapacity must be a whole number of DPUs from 2 to 100, got 2.5.',
    },
    {
      title: 'MaxCapacity 0.5 for a Python shell job',
      patch: { Command: { Name: 'pythonshell', ScriptLocation: 's3://scripts/a.py' }, MaxCapacity: 0.5 },
      message: 'MaxCapacity of a Python shell job must be 0.0625 or 1 DPU, got 0.5.',
    },
    {
      title: 'MaxCapacity for a Glue 4.0 Spark job',
      patch: { GlueVersion: '4.0', MaxCapacity: 10 },
      message:
        'For Glue version 2.0+ jobs, you cannot specify a Maximum capacity. Instead, you should specify a Worker type ' +
        'and the Number of workers (got MaxCapacity 10 with GlueVersion 4.0).',
    },
    {
      title: 'AllocatedCapacity for a Glue 2.0 job',
      patch: { GlueVersion: '2.0', AllocatedCapacity: 5 },
      message: /^For Glue version 2\.0\+ jobs, you cannot specify a Maximum capacity\..*\(got AllocatedCapacity 5 with GlueVersion 2\.0\)\.$/,
    },
    {
      title: 'the Ray worker type for a Spark job',
      patch: { WorkerType: 'Z.2X', NumberOfWorkers: 2 },
      message: 'WorkerType Z.2X is for Ray jobs (Command.Name glueray), not glueetl.',
    },
    {
      title: 'G.025X for a batch job',
      patch: { WorkerType: 'G.025X', NumberOfWorkers: 2 },
      message: 'WorkerType G.025X is for streaming jobs (Command.Name gluestreaming), not glueetl.',
    },
    {
      title: 'a Timeout over 7 days',
      patch: { Timeout: 10_081 },
      message: 'Jobs must have timeout values less than 7 days or 10080 minutes, got Timeout 10081.',
    },
    {
      title: 'ExecutionClass FLEX for a Python shell job',
      patch: { Command: { Name: 'pythonshell', ScriptLocation: 's3://scripts/a.py' }, ExecutionClass: 'FLEX' },
      message: 'ExecutionClass FLEX is only allowed for jobs whose Command.Name is glueetl, not pythonshell.',
    },
    {
      title: 'G.8X before Glue 3.0',
      patch: { WorkerType: 'G.8X', NumberOfWorkers: 2, GlueVersion: '2.0' },
      message: 'WorkerType G.8X is available only for Glue version 3.0 or later, not 2.0.',
    },
    {
      title: 'ExecutionClass FLEX before Glue 3.0',
      patch: { ExecutionClass: 'FLEX', GlueVersion: '2.0' },
      message: 'ExecutionClass FLEX is only allowed for Glue version 3.0 or later, not 2.0.',
    },
    {
      title: 'an unknown SecurityConfiguration',
      patch: { SecurityConfiguration: 'sec-config' },
      name: 'EntityNotFoundException',
      message: /^Security configuration sec-config not found \(SecurityConfiguration\)/,
    },
  ];
  for (const { title, patch, message, name } of refusals) {
    it(`CreateJob refuses ${title}, creating nothing`, async () => {
      const input = jobInput(patch);
      await expectGlueError(glue.send(new CreateJobCommand(input)), { name: name ?? 'InvalidInputException', message });
      await expectGlueError(glue.send(new GetJobCommand({ JobName: input.Name })), { name: 'EntityNotFoundException' });
    });
  }

  it('accepts each way of sizing a job alone; AllocatedCapacity is also shown as MaxCapacity', async () => {
    const workers = jobInput({ WorkerType: 'G.2X', NumberOfWorkers: 3 });
    await glue.send(new CreateJobCommand(workers));
    const { Job: sized } = await glue.send(new GetJobCommand({ JobName: workers.Name }));
    assert.deepEqual([sized?.WorkerType, sized?.NumberOfWorkers, sized?.MaxCapacity], ['G.2X', 3, undefined]);

    const allocated = jobInput({ AllocatedCapacity: 5 });
    await glue.send(new CreateJobCommand(allocated));
    const { Job: legacy } = await glue.send(new GetJobCommand({ JobName: allocated.Name }));
    assert.deepEqual([legacy?.AllocatedCapacity, legacy?.MaxCapacity], [5, 5]);

    const flex = jobInput({ ExecutionClass: 'FLEX', GlueVersion: '4.0', WorkerType: 'G.8X', NumberOfWorkers: 2 });
    await glue.send(new CreateJobCommand(flex));
    assert.equal((await glue.send(new GetJobCommand({ JobName: flex.Name }))).Job?.ExecutionClass, 'FLEX');

    const shell = jobInput({ Command: { Name: 'pythonshell', ScriptLocation: 's3://scripts/a.py' }, MaxCapacity: 0.0625 });
    await glue.send(new CreateJobCommand(shell));
    assert.equal((await glue.send(new GetJobCommand({ JobName: shell.Name }))).Job?.MaxCapacity, 0.0625);

    // Python shell jobs are sized by MaxCapacity on every Glue version; Spark jobs up to 1.0.
    const modernShell = jobInput({ Command: { Name: 'pythonshell', ScriptLocation: 's3://scripts/a.py' }, GlueVersion: '3.0', MaxCapacity: 1 });
    await glue.send(new CreateJobCommand(modernShell));
    assert.equal((await glue.send(new GetJobCommand({ JobName: modernShell.Name }))).Job?.MaxCapacity, 1);
    const legacySpark = jobInput({ GlueVersion: '1.0', MaxCapacity: 20 });
    await glue.send(new CreateJobCommand(legacySpark));
    assert.equal((await glue.send(new GetJobCommand({ JobName: legacySpark.Name }))).Job?.MaxCapacity, 20);
  });

  it("a job that states no size gets Glue's default MaxCapacity: 0.0625 DPU for Python shell, 10 for Spark", async () => {
    const shell = jobInput({ Command: { Name: 'pythonshell', ScriptLocation: 's3://scripts/a.py' } });
    await glue.send(new CreateJobCommand(shell));
    assert.equal((await glue.send(new GetJobCommand({ JobName: shell.Name }))).Job?.MaxCapacity, 0.0625);
    const spark = jobInput();
    await glue.send(new CreateJobCommand(spark));
    assert.equal((await glue.send(new GetJobCommand({ JobName: spark.Name }))).Job?.MaxCapacity, 10);
  });

  it('UpdateJob applies the same rules to the new definition and keeps the old one when refused', async () => {
    const input = jobInput({ WorkerType: 'G.1X', NumberOfWorkers: 2 });
    await glue.send(new CreateJobCommand(input));
    await expectGlueError(
      glue.send(
        new UpdateJobCommand({
          JobName: input.Name,
          JobUpdate: { Role: ROLE, Command: input.Command, MaxCapacity: 10, WorkerType: 'G.1X', NumberOfWorkers: 4 },
        }),
      ),
      { name: 'InvalidInputException', message: 'Do not set MaxCapacity if using WorkerType and NumberOfWorkers.' },
    );
    await expectGlueError(
      glue.send(new UpdateJobCommand({ JobName: input.Name, JobUpdate: { Role: ROLE, Command: input.Command, GlueVersion: '4.0', MaxCapacity: 10 } })),
      { name: 'InvalidInputException', message: /^For Glue version 2\.0\+ jobs, you cannot specify a Maximum capacity\./ },
    );
    await expectGlueError(
      glue.send(new UpdateJobCommand({ JobName: input.Name, JobUpdate: { SecurityConfiguration: 'sec-config' } })),
      { name: 'EntityNotFoundException', message: /^Security configuration sec-config not found/ },
    );
    const { Job } = await glue.send(new GetJobCommand({ JobName: input.Name }));
    assert.deepEqual([Job?.WorkerType, Job?.NumberOfWorkers], ['G.1X', 2]);
  });

  it('StartJobRun sizes a run one way, replacing the way the job is sized; AllocatedCapacity is its MaxCapacity', async () => {
    const input = jobInput({ Command: { Name: 'findmatches' }, WorkerType: 'G.1X', NumberOfWorkers: 2 });
    await glue.send(new CreateJobCommand(input));
    const runOf = async (patch: Record<string, unknown>) => {
      const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: input.Name, ...patch }));
      const { JobRun } = await glue.send(new GetJobRunCommand({ JobName: input.Name, RunId: JobRunId }));
      return [JobRun?.WorkerType, JobRun?.NumberOfWorkers, JobRun?.MaxCapacity, JobRun?.AllocatedCapacity];
    };
    assert.deepEqual(await runOf({ NumberOfWorkers: 5 }), ['G.1X', 5, undefined, undefined]);
    assert.deepEqual(await runOf({ MaxCapacity: 4 }), [undefined, undefined, 4, undefined]);
    assert.deepEqual(await runOf({ AllocatedCapacity: 3 }), [undefined, undefined, 3, 3]);
  });

  it('StartJobRun refuses MaxCapacity together with workers, and a SecurityConfiguration', async () => {
    const input = jobInput({ Command: { Name: 'findmatches' } });
    await glue.send(new CreateJobCommand(input));
    await expectGlueError(
      glue.send(new StartJobRunCommand({ JobName: input.Name, MaxCapacity: 10, WorkerType: 'G.1X', NumberOfWorkers: 2 })),
      { name: 'InvalidInputException', message: 'Do not set MaxCapacity if using WorkerType and NumberOfWorkers.' },
    );
    await expectGlueError(glue.send(new StartJobRunCommand({ JobName: input.Name, SecurityConfiguration: 'sec-config' })), {
      name: 'EntityNotFoundException',
      message: /^Security configuration sec-config not found/,
    });
  });

  it('StartJobRun refuses the Timeout, MaxCapacity and NumberOfWorkers values CreateJob refuses, and starts no run', async () => {
    const input = jobInput({ Command: { Name: 'findmatches' } });
    await glue.send(new CreateJobCommand(input));
    await expectGlueError(glue.send(new StartJobRunCommand({ JobName: input.Name, Timeout: 10_081 })), {
      name: 'InvalidInputException',
      message: 'Jobs must have timeout values less than 7 days or 10080 minutes, got Timeout 10081.',
    });
    await expectGlueError(glue.send(new StartJobRunCommand({ JobName: input.Name, MaxCapacity: 1.5 })), {
      name: 'InvalidInputException',
      message: 'MaxCapacity must be a whole number of DPUs from 2 to 100, got 1.5.',
    });
    await expectGlueError(glue.send(new StartJobRunCommand({ JobName: input.Name, WorkerType: 'G.1X', NumberOfWorkers: 0 })), {
      name: 'InvalidInputException',
      message: 'NumberOfWorkers should be >= 1.',
    });
    assert.deepEqual((await glue.send(new GetJobRunsCommand({ JobName: input.Name }))).JobRuns, []);
  });

  it('StartJobRun refuses MaxCapacity for a job of Glue 2.0 or later, and starts the run sized by workers', async () => {
    const input = jobInput({ Command: { Name: 'findmatches' }, GlueVersion: '3.0', WorkerType: 'G.1X', NumberOfWorkers: 2 });
    await glue.send(new CreateJobCommand(input));
    await expectGlueError(glue.send(new StartJobRunCommand({ JobName: input.Name, MaxCapacity: 4 })), {
      name: 'InvalidInputException',
      message: /^For Glue version 2\.0\+ jobs, you cannot specify a Maximum capacity\..*\(got MaxCapacity 4 with GlueVersion 3\.0\)\.$/,
    });
    assert.deepEqual((await glue.send(new GetJobRunsCommand({ JobName: input.Name }))).JobRuns, []);
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: input.Name, NumberOfWorkers: 3 }));
    const { JobRun } = await glue.send(new GetJobRunCommand({ JobName: input.Name, RunId: JobRunId }));
    assert.deepEqual([JobRun?.WorkerType, JobRun?.NumberOfWorkers, JobRun?.MaxCapacity], ['G.1X', 3, undefined]);
  });
});

describe('job tags', () => {
  it("CreateJob's Tags are the job's: GetTags, TagResource and UntagResource work on its ARN", async () => {
    const input = jobInput({ Tags: { team: 'data', env: 'test' } });
    await glue.send(new CreateJobCommand(input));
    const arn = jobArn(input.Name!);
    assert.deepEqual((await glue.send(new GetTagsCommand({ ResourceArn: arn }))).Tags, { team: 'data', env: 'test' });

    await glue.send(new TagResourceCommand({ ResourceArn: arn, TagsToAdd: { owner: 'ana', env: 'prod' } }));
    await glue.send(new UntagResourceCommand({ ResourceArn: arn, TagsToRemove: ['team'] }));
    assert.deepEqual((await glue.send(new GetTagsCommand({ ResourceArn: arn }))).Tags, { env: 'prod', owner: 'ana' });
  });

  it('deleting a job deletes its tags; a job created again under the name starts without them', async () => {
    const input = jobInput({ Tags: { team: 'data' } });
    await glue.send(new CreateJobCommand(input));
    await glue.send(new DeleteJobCommand({ JobName: input.Name }));
    await expectGlueError(glue.send(new GetTagsCommand({ ResourceArn: jobArn(input.Name!) })), {
      name: 'EntityNotFoundException',
      message: `Job with name: ${input.Name} not found.`,
    });
    await glue.send(new CreateJobCommand({ ...input, Tags: undefined }));
    assert.deepEqual((await glue.send(new GetTagsCommand({ ResourceArn: jobArn(input.Name!) }))).Tags, {});
  });

  it('tagging an unknown job answers EntityNotFoundException', async () => {
    const name = uniqueName('nojob');
    await expectGlueError(glue.send(new TagResourceCommand({ ResourceArn: jobArn(name), TagsToAdd: { a: 'b' } })), {
      name: 'EntityNotFoundException',
      message: `Job with name: ${name} not found.`,
    });
  });
});
