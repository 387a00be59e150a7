import type { MetadataStore } from '../../storage/metadata-store.js';
import { writeOutput } from '../../storage/data-objects.js';
import { ObjectStoreError, type ObjectStore } from '../../storage/object-store.js';
import { parseS3Uri, S3UriError } from '../../storage/s3-uri.js';
import { formatLabelFile } from '../../transforms/labels/label-file.js';
import { TaskFailure, type TaskContext, type TaskHandler, type TaskResult } from '../task-handler.js';
import { transformColumns } from './transform-columns.js';

export interface ExportLabelsDeps {
  objects: ObjectStore;
  store: MetadataStore;
}

/** EXPORT_LABELS: every stored label as one CSV part under OutputS3Path, then `_SUCCESS`. */
export function exportLabelsTask(deps: ExportLabelsDeps): TaskHandler {
  return {
    resumable: () => true,
    async execute(ctx: TaskContext): Promise<TaskResult> {
      const props = ctx.run.properties['ExportLabelsTaskRunProperties'] as { OutputS3Path: string };
      let at;
      try {
        at = parseS3Uri(props.OutputS3Path);
      } catch (e) {
        if (e instanceof S3UriError) throw new TaskFailure(`Invalid output path. ${e.message}`);
        throw e;
      }
      const labels = await deps.store.listLabels(ctx.run, ctx.run.transformId);
      if (labels.length === 0) {
        throw new TaskFailure(
          `No labelset exists for transformId ${ctx.run.transformId} in account id ${ctx.run.accountId}.`,
        );
      }
      const text = Buffer.from(formatLabelFile(labels, transformColumns(ctx.transform).columns), 'utf8');
      ctx.signal.throwIfAborted();
      try {
        await writeOutput(deps.objects, at, [
          { name: 'part-00000.csv', body: (async function* () { yield text; })(), contentType: 'text/csv' },
        ]);
      } catch (e) {
        if (e instanceof ObjectStoreError) throw new TaskFailure(`Cannot write to ${props.OutputS3Path}. ${e.message}`);
        throw e;
      }
      return { properties: { ExportLabelsTaskRunProperties: { ...props, LabeledRowCount: labels.length } } };
    },
  };
}
