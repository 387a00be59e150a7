import type { Scope } from '../storage/records.js';

export const databaseArn = (s: Scope, name: string) =>
  `arn:aws:glue:${s.region}:${s.accountId}:database/${name}`;

export const tableArn = (s: Scope, databaseName: string, name: string) =>
  `arn:aws:glue:${s.region}:${s.accountId}:table/${databaseName}/${name}`;
