import type { Scope } from '../storage/records.js';

/** arn:aws:glue:<region>:<account>:mlTransform/<TransformId> (the id, never the name). */
export const transformArn = (t: Scope & { id: string }) =>
  `arn:aws:glue:${t.region}:${t.accountId}:mlTransform/${t.id}`;
