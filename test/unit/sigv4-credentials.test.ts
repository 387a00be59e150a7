/**
 * Credential configuration (src/api/auth/credentials.ts): the default pair, DOPPEL_CREDENTIALS,
 * DOPPEL_CREDENTIALS_FILE, and the error messages for bad entries (the CLI prints them verbatim).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadCredentials } from '../../src/api/auth/credentials.js';

const dir = mkdtempSync(join(tmpdir(), 'doppel-credentials-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function credentialsFile(content: unknown): string {
  const path = join(dir, `credentials-${++fileCount}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Asserts loadCredentials throws an Error whose message matches every pattern and leaks no secret. */
function assertConfigError(env: NodeJS.ProcessEnv, patterns: RegExp[], secret?: string): void {
  assert.throws(
    () => loadCredentials(env),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      for (const pattern of patterns) assert.match(error.message, pattern);
      if (secret) assert.ok(!error.message.includes(secret), `message leaks the secret: ${error.message}`);
      return true;
    },
  );
}

describe('default credentials', () => {
  it('are test/test → 123456789012 when nothing is configured', () => {
    const registry = loadCredentials({});
    assert.deepEqual(registry.lookup('test'), {
      accessKeyId: 'test',
      secretAccessKey: 'test',
      accountId: '123456789012',
    });
    assert.deepEqual(registry.accessKeyIds(), ['test']);
    assert.equal(registry.isDefault, true);
    assert.equal(registry.lookup('TEST'), undefined);
    assert.equal(registry.lookup('toString'), undefined);
  });

  it('apply when the variables are set but blank', () => {
    assert.equal(loadCredentials({ DOPPEL_CREDENTIALS: '  ', DOPPEL_CREDENTIALS_FILE: '' }).isDefault, true);
  });
});

describe('DOPPEL_CREDENTIALS', () => {
  it('parses several entries, with and without an account, and replaces the default pair', () => {
    const registry = loadCredentials({
      DOPPEL_CREDENTIALS: 'AKIAALICE000000001:alice/Secret+Key=:111111111111, bob:bobsecret',
    });
    assert.deepEqual(registry.lookup('AKIAALICE000000001'), {
      accessKeyId: 'AKIAALICE000000001',
      secretAccessKey: 'alice/Secret+Key=',
      accountId: '111111111111',
    });
    assert.equal(registry.lookup('bob')?.accountId, '123456789012');
    assert.equal(registry.lookup('test'), undefined);
    assert.equal(registry.isDefault, false);
    assert.deepEqual(registry.accessKeyIds(), ['AKIAALICE000000001', 'bob']);
  });

  it('keeps leading zeros of account ids', () => {
    assert.equal(loadCredentials({ DOPPEL_CREDENTIALS: 'k:s:000000000000' }).lookup('k')?.accountId, '000000000000');
  });

  it('rejects a bad account id, naming the entry and the key but not the secret', () => {
    assertConfigError(
      { DOPPEL_CREDENTIALS: 'good:s1:111111111111,bad:hunter2:12345' },
      [/DOPPEL_CREDENTIALS entry 2/, /"bad"/, /"12345"/, /12 digits/],
      'hunter2',
    );
    assertConfigError({ DOPPEL_CREDENTIALS: 'k:s:1234567890ab' }, [/entry 1/, /12 digits/]);
    assertConfigError({ DOPPEL_CREDENTIALS: 'k:s:' }, [/entry 1/, /account id ""/]);
  });

  it('rejects entries with too few or too many fields', () => {
    assertConfigError({ DOPPEL_CREDENTIALS: 'lonely' }, [/entry 1/, /1 ':'-separated fields/, /ACCESS_KEY_ID:SECRET_ACCESS_KEY/]);
    assertConfigError(
      { DOPPEL_CREDENTIALS: 'k:se:cr:et:123456789012' },
      [/entry 1/, /5 ':'-separated fields/, /DOPPEL_CREDENTIALS_FILE/],
      'se:cr:et',
    );
  });

  it('rejects empty entries, empty secrets and bad access key ids', () => {
    assertConfigError({ DOPPEL_CREDENTIALS: 'a:b,' }, [/entry 2 is empty/]);
    assertConfigError({ DOPPEL_CREDENTIALS: 'a:' }, [/entry 1/, /"a"/, /secret access key is empty/]);
    assertConfigError({ DOPPEL_CREDENTIALS: ':secret' }, [/entry 1/, /access key id ""/]);
    assertConfigError({ DOPPEL_CREDENTIALS: 'key/with/slash:s' }, [/entry 1/, /"key\/with\/slash"/, /letters, digits/]);
    assertConfigError({ DOPPEL_CREDENTIALS: 'k:sec ret' }, [/entry 1/, /whitespace/], 'sec ret');
  });

  it('rejects the same access key twice', () => {
    assertConfigError({ DOPPEL_CREDENTIALS: 'k:s1,other:s2,k:s3' }, [/"k" is configured twice/, /entry 1 and DOPPEL_CREDENTIALS entry 3/]);
  });
});

describe('DOPPEL_CREDENTIALS_FILE', () => {
  it('reads a JSON array; accountId is optional', () => {
    const path = credentialsFile([
      { accessKeyId: 'AKIAFILE0000000001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', accountId: '222222222222' },
      { accessKeyId: 'ci', secretAccessKey: 'with:colons:is:fine' },
    ]);
    const registry = loadCredentials({ DOPPEL_CREDENTIALS_FILE: path });
    assert.equal(registry.lookup('AKIAFILE0000000001')?.accountId, '222222222222');
    assert.deepEqual(registry.lookup('ci'), { accessKeyId: 'ci', secretAccessKey: 'with:colons:is:fine', accountId: '123456789012' });
    assert.equal(registry.lookup('test'), undefined);
  });

  it('merges with DOPPEL_CREDENTIALS, rejecting a key present in both', () => {
    const path = credentialsFile([{ accessKeyId: 'from-file', secretAccessKey: 'f' }]);
    const registry = loadCredentials({ DOPPEL_CREDENTIALS: 'from-env:e', DOPPEL_CREDENTIALS_FILE: path });
    assert.deepEqual(registry.accessKeyIds(), ['from-env', 'from-file']);
    assertConfigError(
      { DOPPEL_CREDENTIALS: 'from-file:e', DOPPEL_CREDENTIALS_FILE: path },
      [/"from-file" is configured twice/, /DOPPEL_CREDENTIALS entry 1/, /DOPPEL_CREDENTIALS_FILE .* entry 1/],
    );
  });

  it('reports a missing file and invalid JSON with the path', () => {
    const missing = join(dir, 'nope.json');
    assertConfigError({ DOPPEL_CREDENTIALS_FILE: missing }, [/DOPPEL_CREDENTIALS_FILE/, /nope\.json/, /cannot be read/, /ENOENT/]);
    assertConfigError({ DOPPEL_CREDENTIALS_FILE: credentialsFile('[{"accessKeyId": ') }, [/is not valid JSON/]);
  });

  it('requires a non-empty array of objects', () => {
    assertConfigError({ DOPPEL_CREDENTIALS_FILE: credentialsFile({ accessKeyId: 'k', secretAccessKey: 's' }) }, [/non-empty JSON array/]);
    assertConfigError({ DOPPEL_CREDENTIALS_FILE: credentialsFile([]) }, [/non-empty JSON array/]);
    assertConfigError({ DOPPEL_CREDENTIALS_FILE: credentialsFile(['k:s']) }, [/entry 1 must be an object/]);
  });

  it('names the entry and field that is wrong', () => {
    const cases: Array<[unknown, RegExp[]]> = [
      [{ accessKeyId: 'k' }, [/"secretAccessKey" must be a string/]],
      [{ accessKeyId: 7, secretAccessKey: 's' }, [/"accessKeyId" must be a string/]],
      [{ accessKeyId: 'k', secretAccessKey: 'topsecret', accountId: 123456789012 }, [/"accountId" must be a string of 12 digits/]],
      [{ accessKeyId: 'k', secretAccessKey: 'topsecret', accountId: '1234' }, [/\(access key "k"\)/, /12 digits/]],
      [{ accessKeyId: 'k', secretKey: 'topsecret' }, [/unknown field "secretKey"/]],
    ];
    for (const [entry, patterns] of cases) {
      const path = credentialsFile([{ accessKeyId: 'fine', secretAccessKey: 'fine' }, entry]);
      assertConfigError({ DOPPEL_CREDENTIALS_FILE: path }, [/DOPPEL_CREDENTIALS_FILE/, /entry 2/, ...patterns], 'topsecret');
    }
  });
});
