/** Every resource lives in one account and one region (taken from the request's SigV4 scope). */
export interface Scope {
  accountId: string;
  region: string;
}
