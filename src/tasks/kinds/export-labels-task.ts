import { LabelsReplaced, type MetadataStore } from '../../storage/metadata-store.js';
import type { LabelRow } from '../../storage/records.js';
import { formatLabelFile } from '../../transforms/labels/label-file.js';
import { TaskFailure, type TaskContext, type TaskHandler, type TaskResult } from '../task-handler.js';
import { s3LocationOf, writeCsvOutput } from './task-paths.js';
import { transformColumns } from './transform-columns.js';

export interface ExportLabelsDeps {
  store: MetadataStore;
}

/**
 * EXPORT_LABELS: every stored label as one CSV part under OutputS3Path, then `_SUCCESS`. The labels
 * stream from the store to the object a page at a time, however many there are.
 */
export function exportLabelsTask(deps: ExportLabelsDeps): TaskHandler {
  return {
    async execute(ctx: TaskContext): Promise<TaskResult> {
      const props = ctx.run.properties['ExportLabelsTaskRunProperties'] as { OutputS3Path: string };
      const at = s3LocationOf(props.OutputS3Path, 'Invalid output path.');
      ctx.progress('reading the stored labels', 0);
      const pages = deps.store.labelPages(ctx.run, ctx.run.transformId)[Symbol.asyncIterator]();
      const first = await pages.next();
      if (first.done === true) {
        throw new TaskFailure(
          `No labelset exists for transformId ${ctx.run.transformId} in account id ${ctx.run.accountId}.`,
        );
      }
      ctx.progress(`writing the labeled rows to ${props.OutputS3Path}`, 0.5);
      let rows = 0;
      async function* counted(): AsyncGenerator<LabelRow[]> {
        for (let page = first; page.done !== true; page = await pages.next()) {
          rows += page.value.length;
          yield page.value;
        }
      }
      try {
        await writeCsvOutput(ctx.objects, props.OutputS3Path, at, formatLabelFile(counted(), transformColumns(ctx.transform).columns));
      } catch (e) {
        if (e instanceof LabelsReplaced) {
          throw new TaskFailure('The labels were replaced by an import that finished during the export; export them again.');
        }
        throw e;
      }
      return { properties: { ExportLabelsTaskRunProperties: { ...props, LabeledRowCount: rows } } };
    },
  };
}
