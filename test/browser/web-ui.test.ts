/**
 * The web UI in a real browser (Debian's chromium driven by playwright-core) against a real server:
 * sign in, create a transform over the restaurant dataset, generate a labeling set and label every
 * set with the keyboard alone (from truth.csv), submit, see READY, evaluate and see the plots, run
 * find-matches and open a group with its explanation; wrong credentials are refused and a second
 * account's transforms are never shown. Each screen is saved to test-artifacts/ui/*.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CreateDatabaseCommand, CreateMLTransformCommand, CreateTableCommand, GetMLTransformCommand, GlueClient } from '@aws-sdk/client-glue';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadDataset, type Dataset } from '../support/datasets.js';
import { s3Client } from '../support/s3-tools.js';
import { startServer, stopAndRemove, TEST_CREDENTIALS, TEST_REGION, twoAccountEnv, type TestServer } from '../support/server.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const ARTIFACTS = join(REPO, 'test-artifacts', 'ui');
const CHROMIUM = process.env['DOPPEL_CHROMIUM'] ?? '/usr/bin/chromium';
const OTHER = { accessKeyId: 'other', secretAccessKey: 'other-secret' };
const OTHER_ACCOUNT = '210987654321';
const ROLE = 'arn:aws:iam::123456789012:role/GlueRole';

/** Records of the restaurant dataset in a bucket, and a catalog table over them, in one account. */
async function catalogTable(server: TestServer, credentials: typeof OTHER, bucket: string, database: string, ds: Dataset): Promise<GlueClient> {
  const glue = new GlueClient({ endpoint: server.endpoint, region: TEST_REGION, credentials, maxAttempts: 1 });
  const s3 = s3Client(server, { credentials });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'data/records.csv', Body: readFileSync(ds.recordsCsvPath) }));
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  await glue.send(
    new CreateTableCommand({
      DatabaseName: database,
      TableInput: {
        Name: 'restaurants',
        Parameters: { classification: 'csv', 'skip.header.line.count': '1' },
        StorageDescriptor: {
          Columns: ds.header.map((Name) => ({ Name, Type: 'string' })),
          Location: `s3://${bucket}/data/`,
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde' },
        },
      },
    }),
  );
  return glue;
}

describe('web UI in chromium', { skip: existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}: apt-get install chromium (or set DOPPEL_CHROMIUM)` }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let ds: Dataset;
  const timings: Record<string, number> = {};

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  /** A chart's text alternative (the canvas uPlot draws has no elements to count), found by its caption. */
  const chartValues = async (caption: string) =>
    (await page.locator('#plots figure', { hasText: caption }).locator('[role=img]').getAttribute('aria-label')) ?? '';
  /** The learning curve's F1 points, from its text alternative "F1: (x, y) (x, y); AUPRC: ...". */
  const f1Points = async () => (/^F1: ([^;]*)/.exec(await chartValues('Learning curve'))?.[1] ?? '').split(') (').filter(Boolean).length;
  const signIn = async (p: Page, accessKey: string, secret: string) => {
    await p.getByLabel('Access key ID').fill(accessKey);
    await p.getByLabel('Secret access key').fill(secret);
    await p.getByLabel('Secret access key').press('Enter');
  };

  /**
   * Labels the sets on screen from truth.csv with the keyboard alone: a group key per record, then
   * Enter; the last Enter lands on Submit, and one more submits and waits for the import.
   */
  const labelEverySet = async (total: number, options: { reloadAt?: number; screenshotFirst?: string } = {}) => {
    for (let set = 0; set < total; set++) {
      if (set === options.reloadAt) {
        await page.reload();
        await page.locator('#labeling-progress', { hasText: `Set ${set + 1} of ${total} · ${set} labeled` }).waitFor();
      }
      const keys = await page.locator('table.records tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key') ?? ''));
      const entities: string[] = [];
      for (const key of keys) {
        const entity = ds.truth.get(key)!;
        if (!entities.includes(entity)) entities.push(entity);
        const group = entities.indexOf(entity);
        await page.keyboard.press(group < 9 ? String(group + 1) : '0');
      }
      if (set === 0 && options.screenshotFirst) await shot(options.screenshotFirst);
      await page.keyboard.press('Enter');
      if (set < total - 1) await page.locator('#labeling-progress', { hasText: `Set ${set + 2} of` }).waitFor();
    }
    await page.locator('#labeling-progress', { hasText: `${total} labeled` }).waitFor();
    // The last set confirmed, the focus is on Submit.
    await page.keyboard.press('Enter');
    await page.locator('#import-done').waitFor({ timeout: 60_000 });
    assert.match(await page.locator('#import-done').innerText(), /READY/);
  };
  /** Generates a labeling set from the Label screen (its button has the focus) and returns how many sets it has. */
  const generateLabelingSet = async () => {
    await page.getByRole('link', { name: 'Label' }).click();
    await page.locator('#generate').waitFor();
    await page.keyboard.press('Enter');
    await page.locator('#labeling-progress').waitFor({ timeout: 60_000 });
    return Number(/of (\d+)/.exec(await page.locator('#labeling-progress').innerText())![1]);
  };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ds = loadDataset('restaurant');
    server = await startServer({ env: twoAccountEnv(OTHER, OTHER_ACCOUNT) });
    await catalogTable(server, TEST_CREDENTIALS, 'ui-restaurants', 'eats', ds);
    const other = await catalogTable(server, OTHER, 'ui-other-account', 'other_eats', ds);
    await other.send(
      new CreateMLTransformCommand({
        Name: 'other-account-transform',
        Role: `arn:aws:iam::${OTHER_ACCOUNT}:role/GlueRole`,
        InputRecordTables: [{ DatabaseName: 'other_eats', TableName: 'restaurants' }],
        Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id' } },
      }),
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
    page.setDefaultTimeout(30_000);
  });
  after(async () => {
    await browser?.close();
    await stopAndRemove(server);
    if (Object.keys(timings).length > 0) writeFileSync(join(ARTIFACTS, 'page-weight.json'), JSON.stringify(timings, null, 2) + '\n');
  });

  it('serves the page from /ui/ without a CDN, and measures its weight and load time', async () => {
    const started = Date.now();
    await page.goto(`${server.endpoint}/ui/`, { waitUntil: 'load' });
    await page.getByLabel('Access key ID').waitFor();
    timings['loadToSignInMs'] = Date.now() - started;
    timings['appJsBytes'] = statSync(join(REPO, 'dist', 'ui', 'app.js')).size;
    timings['styleCssBytes'] = statSync(join(REPO, 'dist', 'ui', 'style.css')).size;
    const requested: string[] = JSON.parse(String(await page.evaluate('JSON.stringify(performance.getEntriesByType("resource").map((e) => e.name))')));
    assert.ok(requested.every((url) => url.startsWith(server.endpoint)), `every resource from the server: ${requested.join(' ')}`);
  });

  it('refuses wrong credentials with a clear message', async () => {
    await signIn(page, TEST_CREDENTIALS.accessKeyId, 'not-the-secret');
    await page.locator('#sign-in-error', { hasText: 'Refused' }).waitFor();
    assert.match(await page.locator('#sign-in-error').innerText(), /Refused: .*signature/i);
    await shot('01-sign-in-refused');
  });

  it('signs in and lists only its own account\'s transforms', async () => {
    await signIn(page, TEST_CREDENTIALS.accessKeyId, TEST_CREDENTIALS.secretAccessKey);
    await page.getByRole('heading', { name: 'Transforms' }).waitFor();
    await page.locator('#no-transforms').waitFor();
    assert.equal(await page.getByText('other-account-transform').count(), 0);
    await shot('02-transforms-empty');
  });

  it('creates a transform from a catalog table', async () => {
    await page.getByLabel('Name', { exact: true }).fill('restaurants-ui');
    await page.getByLabel('Database').selectOption('eats');
    await page.getByLabel('Table', { exact: true }).selectOption('restaurants');
    await page.getByLabel('Primary key column').selectOption('id');
    await page.getByRole('button', { name: 'Create transform' }).click();
    await page.locator('#transform-status', { hasText: 'NOT_READY' }).waitFor();
    await page.locator('#task-runs').waitFor();
    await shot('03-transform-overview');
  });

  it('edits the tradeoffs', async () => {
    await page.getByLabel(/Precision-recall tradeoff/).fill('0.6');
    await page.getByLabel(/Precision-recall tradeoff/).press('Enter');
    await page.getByText('Saved.').waitFor();
    const transformId = await page.locator('.transform-header code').innerText();
    const glue = new GlueClient({ endpoint: server.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const saved = await glue.send(new GetMLTransformCommand({ TransformId: transformId }));
    assert.equal(saved.Parameters?.FindMatchesParameters?.PrecisionRecallTradeoff, 0.6);
    assert.equal(saved.Parameters?.FindMatchesParameters?.PrimaryKeyColumnName, 'id');
  });

  it('generates a labeling set and labels every set with the keyboard alone, surviving a reload', { timeout: 90_000 }, async () => {
    const total = await generateLabelingSet();
    assert.ok(total > 1, `${total} sets`);
    await shot('04-labeling-suggested');

    // Undo takes a change back: the set is a suggestion again.
    await page.keyboard.press('n');
    assert.equal(await page.locator('#set-state').innerText(), 'labeled');
    await page.keyboard.press('u');
    assert.match(await page.locator('#set-state').innerText(), /suggested/);

    await labelEverySet(total, { reloadAt: Math.floor(total / 2), screenshotFirst: '05-labeling-labeled' });
    assert.equal(await page.locator('#transform-status').innerText(), 'READY');
    await shot('06-labels-imported');
  });

  it('runs an evaluation and shows the plots', { timeout: 60_000 }, async () => {
    await page.getByRole('link', { name: 'Quality' }).click();
    await page.locator('#evaluate').click();
    await page.locator('#plots figure').nth(3).waitFor({ timeout: 50_000 });
    assert.equal(await page.locator('#plots figure').count(), 4);
    assert.equal(await page.locator('#plots figure canvas').count(), 3, 'three charts drawn by uPlot');
    assert.ok((await chartValues('Column importances')).split(', ').length >= 3, 'a bar per column');
    assert.equal(await f1Points(), 1);
  });

  it('labels a second round and draws the learning curve over both evaluations', { timeout: 90_000 }, async () => {
    await labelEverySet(await generateLabelingSet());
    await page.getByRole('link', { name: 'Quality' }).click();
    await page.locator('#plots figure').nth(3).waitFor();
    assert.equal(await f1Points(), 1, 'new labels alone are no new evaluation');
    await page.locator('#evaluate').click();
    await page.locator('#evaluation-status', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 50_000 });
    await page.locator('#plots figure', { hasText: 'Learning curve' }).locator('[role=img][aria-label*=") ("]').waitFor();
    assert.equal(await f1Points(), 2);
    await shot('07-quality');
  });

  it('runs find-matches, opens the largest group with its explanation, and turns it into a labeling set', { timeout: 60_000 }, async () => {
    await page.getByRole('link', { name: 'Review matches' }).click();
    await page.locator('#find-matches').click();
    await page.locator('.groups button').first().waitFor({ timeout: 50_000 });
    await page.locator('.groups button').first().focus();
    await page.keyboard.press('Enter');
    await page.locator('.explanation .contributions li').first().waitFor();
    assert.match(await page.locator('.explanation').first().innerText(), /with \S+: log-odds/);
    await shot('08-review-group');
    await page.locator('#mark-wrong').click();
    await page.locator('#set-state', { hasText: 'suggested' }).waitFor();
    assert.match(await page.getByRole('heading', { name: /Labeling set review-/ }).innerText(), /review-/);
    await shot('09-review-as-labeling-set');
  });

  it('shows the second account only its own transforms, and the first its own, READY with metrics', async () => {
    const context = await browser.newContext();
    const other = await context.newPage();
    await other.goto(`${server.endpoint}/ui/`);
    await signIn(other, OTHER.accessKeyId, OTHER.secretAccessKey);
    await other.getByRole('link', { name: 'other-account-transform' }).waitFor();
    assert.equal(await other.getByText('restaurants-ui').count(), 0);
    await other.screenshot({ path: join(ARTIFACTS, '10-other-account.png'), fullPage: true });
    await context.close();
    // The first account's list: its transform READY, with its latest metrics.
    await page.locator('a.brand').click();
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'restaurants-ui' }) });
    await row.locator('.status', { hasText: 'READY' }).waitFor();
    assert.match(await row.innerText(), /0\.\d{3}/);
    await shot('11-transforms-list');
  });
});
