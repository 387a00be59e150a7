import type { Scope } from './scope.js';

/** Who is calling and where: derived from the request's SigV4 credential scope. */
export interface RequestContext extends Scope {
  accessKeyId: string;
  requestId: string;
  /** Used for CreatedBy on catalog tables. */
  principalArn: string;
}
