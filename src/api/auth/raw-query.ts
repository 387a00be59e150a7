/**
 * Query strings as SigV4 sees them: ordered, possibly repeated `name=value` pairs, percent-decoded.
 *
 * The signer re-encodes names and values with the SigV4 escaping rules, so decoding here and encoding
 * there reproduces the canonical query string that botocore and the JS SDK built from their own
 * (already canonically encoded) URLs. `+` stays a literal plus: SigV4 clients encode spaces as `%20`.
 */

export type QueryPairs = ReadonlyArray<readonly [name: string, value: string]>;

export function parseRawQuery(query: string): QueryPairs {
  const pairs: Array<[string, string]> = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    // `?acl` means the parameter `acl` with an empty value (canonical form `acl=`).
    const name = equals === -1 ? part : part.slice(0, equals);
    const value = equals === -1 ? '' : part.slice(equals + 1);
    pairs.push([decodeLeniently(name), decodeLeniently(value)]);
  }
  return pairs;
}

/** First value of a parameter (names are case-sensitive, as in AWS's query authentication). */
export function firstQueryValue(pairs: QueryPairs, name: string): string | undefined {
  return pairs.find(([key]) => key === name)?.[1];
}

/** The shape the smithy signer takes: one string per name, or all values of a repeated name. */
export function toSignerQuery(pairs: QueryPairs): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of pairs) {
    const existing = query[name];
    if (existing === undefined) query[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[name] = [existing, value];
  }
  return query;
}

/**
 * Malformed escapes (`%zz`) are kept verbatim: the request then simply fails to verify, which is the
 * right outcome, instead of crashing the verifier.
 */
function decodeLeniently(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
