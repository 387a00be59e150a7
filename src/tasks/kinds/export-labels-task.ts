import type { MetadataStore } from '../../storage/metadata-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { formatLabelFile } from '../../transforms/labels/label-file.js';
import { TaskFailure, type TaskContext, type TaskHandler, type TaskResult } from '../task-handler.js';
import { s3LocationOf, writeCsvOutput } from './task-paths.js';
import { transformColumns } from './transform-columns.js';

export interface ExportLabelsDeps {
  store: MetadataStore;
}

/** EXPORT_LABELS: every stored label as one CSV part under OutputS3Path, then `_SUCCESS`. */
export function exportLabelsTask(deps: ExportLabelsDeps): TaskHandler {
  return {
    async execute(ctx: TaskContext): Promise<TaskResult> {
      const props = ctx.run.properties['ExportLabelsTaskRunProperties'] as { OutputS3Path: string };
      const at = s3LocationOf(props.OutputS3Path, 'Invalid output path.');
      ctx.progress('reading the stored labels', 0);
      const labels = await deps.store.listLabels(ctx.run, ctx.run.transformId);
      if (labels.length === 0) {
        throw new TaskFailure(
          `No labelset exists for transformId ${ctx.run.transformId} in account id ${ctx.run.accountId}.`,
        );
      }
      ctx.progress(`writing ${labels.length} labeled rows to ${props.OutputS3Path}`, 0.5);
      const text = formatLabelFile(labels, transformColumns(ctx.transform).columns);
      await writeCsvOutput(ctx.objects, props.OutputS3Path, at, text);
      return { properties: { ExportLabelsTaskRunProperties: { ...props, LabeledRowCount: labels.length } } };
    },
  };
}
