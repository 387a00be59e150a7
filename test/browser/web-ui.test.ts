/**
 * The web UI in a real browser (Debian's chromium driven by playwright-core) against a real server:
 * sign in, create a transform over the restaurant dataset, generate a labeling set and label every
 * set with the keyboard alone (from truth.csv), submit, see READY, evaluate and see the plots, run
 * find-matches and open a group with its explanation; wrong credentials are refused and a second
 * account's transforms are never shown. Plots are drawn from the server's data (the precision-recall
 * curve, the learning curve over the evaluation runs, in another browser too); a labeling set of
 * more than nine groups is labeled by keyboard; a 100,000-record output is reviewed page by page.
 * Every screen is checked at 1366×768 and for controls without an accessible name, and saved to
 * test-artifacts/ui/*.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CreateDatabaseCommand, GetMLTransformCommand, GlueClient } from '@aws-sdk/client-glue';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadDataset, type Dataset } from '../support/datasets.js';
import { createOpenCsvTable, createTableTransform } from '../support/glue-client.js';
import { rawGlueCall } from '../support/raw-glue.js';
import { s3Client } from '../support/s3-tools.js';
import { startServer, stopAndRemove, TEST_CREDENTIALS, TEST_REGION, twoAccountEnv, type TestServer } from '../support/server.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const ARTIFACTS = join(REPO, 'test-artifacts', 'ui');
const CHROMIUM = process.env['DOPPEL_CHROMIUM'] ?? '/usr/bin/chromium';
const OTHER = { accessKeyId: 'other', secretAccessKey: 'other-secret' };
const OTHER_ACCOUNT = '210987654321';
/** Roles a user operates; each needs a name. */
const CONTROL_ROLES = new Set(['button', 'link', 'textbox', 'combobox', 'listbox', 'checkbox', 'radio', 'spinbutton', 'slider', 'searchbox', 'menuitem', 'tab', 'progressbar']);
/** A laptop screen. */
const VIEWPORT = { width: 1366, height: 768 };

interface AXNode {
  ignored?: boolean;
  role?: { value?: unknown };
  name?: { value?: unknown };
}

/**
 * The key that puts a record in `group` (0 for A): 1–9 the first nine, 0 a new group, Shift and the
 * group's letter an existing group beyond nine.
 */
function groupKey(group: number, isNew: boolean): string {
  if (group < 9) return String(group + 1);
  if (isNew) return '0';
  return `Shift+Key${String.fromCharCode(65 + group)}`;
}

/** Records of the restaurant dataset in a bucket, and a catalog table over them, in one account. */
async function catalogTable(server: TestServer, credentials: typeof OTHER, bucket: string, database: string, ds: Dataset): Promise<GlueClient> {
  const glue = new GlueClient({ endpoint: server.endpoint, region: TEST_REGION, credentials, maxAttempts: 1 });
  const s3 = s3Client(server, { credentials });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'data/records.csv', Body: readFileSync(ds.recordsCsvPath) }));
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  await createOpenCsvTable(glue, { database, table: 'restaurants', columns: ds.header, location: `s3://${bucket}/data/` });
  return glue;
}

describe('web UI in chromium', { skip: existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}: apt-get install chromium (or set DOPPEL_CHROMIUM)` }, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let ds: Dataset;
  const timings: Record<string, number> = {};

  /**
   * Saves the screen, after checking it on the laptop viewport: nothing wider than the window, and
   * every control named for assistive technology (Chromium's own accessibility tree, over CDP).
   */
  const shot = async (name: string, p: Page = page) => {
    await checkScreen(p, name);
    await p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  };
  const checkScreen = async (p: Page, name: string) => {
    const width = (await p.evaluate('JSON.stringify([document.documentElement.scrollWidth, window.innerWidth])')) as string;
    const [scrollWidth, innerWidth] = JSON.parse(width) as [number, number];
    assert.ok(scrollWidth <= innerWidth, `${name}: the page is ${scrollWidth}px wide in a ${innerWidth}px window`);
    const cdp = await p.context().newCDPSession(p);
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AXNode[] };
    await cdp.detach();
    const unnamed = nodes.filter((n) => !n.ignored && CONTROL_ROLES.has(String(n.role?.value)) && !String(n.name?.value ?? '').trim());
    assert.deepEqual(unnamed.map((n) => n.role?.value), [], `${name}: controls without an accessible name`);
    const controls = nodes.filter((n) => !n.ignored && CONTROL_ROLES.has(String(n.role?.value))).length;
    assert.ok(controls > 0, `${name}: the accessibility tree lists the screen's controls`);
  };
  /** A chart's text alternative (the canvas uPlot draws has no elements to count), found by its caption. */
  const chartValues = async (caption: string) =>
    (await page.locator('#plots figure', { hasText: caption }).locator('[role=img]').getAttribute('aria-label')) ?? '';
  /** The learning curve's F1 points, from its text alternative "F1: (x, y) (x, y); AUPRC: ...". */
  const f1Points = async () => (/^F1: ([^;]*)/.exec(await chartValues('Learning curve'))?.[1] ?? '').split(') (').filter(Boolean).length;
  /** The transform the tests created, as its header shows it. */
  const transformId = () => page.locator('.transform-header code').innerText();
  const glueAs = () => new GlueClient({ endpoint: server.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  const signIn = async (p: Page, accessKey: string, secret: string) => {
    await p.getByLabel('Access key ID').fill(accessKey);
    await p.getByLabel('Secret access key').fill(secret);
    await p.getByLabel('Secret access key').press('Enter');
  };

  /**
   * Labels the sets on screen from truth.csv with the keyboard alone: a group key per record, then
   * Enter; the last Enter lands on Submit, and one more submits and waits for the import.
   */
  const labelEverySet = async (total: number, options: { reloadAt?: number; screenshotFirst?: string; revisit?: boolean } = {}) => {
    for (let set = 0; set < total; set++) {
      if (set === options.reloadAt) {
        await page.reload();
        await page.locator('#labeling-progress', { hasText: `Set ${set + 1} of ${total} · ${set} labeled` }).waitFor();
      }
      const keys = await page.locator('table.records tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key') ?? ''));
      const entities: string[] = [];
      for (const key of keys) {
        const entity = ds.truth.get(key)!;
        const isNew = !entities.includes(entity);
        if (isNew) entities.push(entity);
        await page.keyboard.press(groupKey(entities.indexOf(entity), isNew));
      }
      if (set === 0 && options.screenshotFirst) await shot(options.screenshotFirst);
      await page.keyboard.press('Enter');
      if (set < total - 1) await page.locator('#labeling-progress', { hasText: `Set ${set + 2} of` }).waitFor();
    }
    await page.locator('#labeling-progress', { hasText: `${total} labeled` }).waitFor();
    await page.locator('#submit-labels:focus').waitFor();
    if (options.revisit) {
      // Back to the set before and Enter: that goes on to the last set, and Submit is not focused
      // (an Enter meant for the next set must not submit); Enter on the last set focuses it again.
      await page.keyboard.press('ArrowLeft');
      await page.locator('#labeling-progress', { hasText: `Set ${total - 1} of` }).waitFor();
      await page.keyboard.press('Enter');
      await page.locator('#labeling-progress', { hasText: `Set ${total} of` }).waitFor();
      assert.equal(await page.locator('#submit-labels:focus').count(), 0);
      await page.keyboard.press('Enter');
      await page.locator('#submit-labels:focus').waitFor();
    }
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
    await createTableTransform(other, {
      database: 'other_eats',
      table: 'restaurants',
      name: 'other-account-transform',
      Role: `arn:aws:iam::${OTHER_ACCOUNT}:role/GlueRole`,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: VIEWPORT });
    page.setDefaultTimeout(30_000);
  });
  after(async () => {
    await browser?.close();
    await stopAndRemove(server);
    if (Object.keys(timings).length > 0) writeFileSync(join(ARTIFACTS, 'page-weight.json'), JSON.stringify(timings, null, 2) + '\n');
  });

  it('serves the page from /ui/ without a CDN, and measures its weight and load time', async () => {
    const started = Date.now();
    const refused: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) refused.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${server.endpoint}/ui/`, { waitUntil: 'load' });
    await page.getByLabel('Access key ID').waitFor();
    // Nothing the page asks for by itself is refused.
    await page.waitForLoadState('networkidle');
    assert.deepEqual(refused, []);
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
    // A group key names the group shown (no renumbering), and undo chooses the record it had moved.
    const groupCells = page.locator('table.records tbody td.group');
    const suggested = await groupCells.allInnerTexts();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('3');
    assert.deepEqual(await groupCells.allInnerTexts(), suggested.map((g, i) => (i === 1 ? 'C' : g)));
    assert.equal(await page.locator('tr[aria-current=true]').getAttribute('data-row'), String(Math.min(2, suggested.length - 1)));
    await page.keyboard.press('u');
    assert.deepEqual(await groupCells.allInnerTexts(), suggested);
    assert.equal(await page.locator('tr[aria-current=true]').getAttribute('data-row'), '1');
    await page.keyboard.press('ArrowUp');

    await labelEverySet(total, { reloadAt: Math.floor(total / 2), screenshotFirst: '05-labeling-labeled', revisit: true });
    assert.equal(await page.locator('#transform-status').innerText(), 'READY');
    await shot('06-labels-imported');
  });

  it('runs an evaluation and draws the plots from the server\'s data', { timeout: 60_000 }, async () => {
    await page.getByRole('link', { name: 'Quality' }).click();
    await page.locator('#evaluate').click();
    await page.locator('#plots figure').nth(3).waitFor({ timeout: 50_000 });
    assert.equal(await page.locator('#plots figure').count(), 4);
    assert.equal(await page.locator('#plots figure canvas').count(), 3, 'three charts drawn by uPlot');
    assert.ok((await chartValues('Column importances')).split(', ').length >= 3, 'a bar per column');
    assert.equal(await f1Points(), 1);
    // The precision-recall curve is the server's: its points and its operating point.
    const raw = await rawGlueCall(server, 'GetMLTransform', { TransformId: await transformId() });
    const metrics = (raw.body['EvaluationMetrics'] as { FindMatchesMetrics: Record<string, unknown> }).FindMatchesMetrics;
    const curve = metrics['PrecisionRecallCurve'] as { Points: unknown[]; OperatingPoint: { Threshold: number; Precision: number; Recall: number } };
    const drawn = await chartValues('Precision-recall curve');
    assert.match(drawn, new RegExp(`through ${curve.Points.length} points`));
    const op = curve.OperatingPoint;
    assert.match(drawn, new RegExp(`operating point at threshold ${op.Threshold.toFixed(3)}: precision ${op.Precision.toFixed(2)}, recall ${op.Recall.toFixed(2)}`));
  });

  it('labels a second round and draws the learning curve over both evaluations, from the server in any browser', { timeout: 90_000 }, async () => {
    await labelEverySet(await generateLabelingSet());
    await page.getByRole('link', { name: 'Quality' }).click();
    await page.locator('#plots figure').nth(3).waitFor();
    assert.equal(await f1Points(), 1, 'new labels alone are no new evaluation');
    await page.locator('#evaluate').click();
    await page.locator('#evaluation-status', { hasText: 'SUCCEEDED' }).waitFor({ timeout: 50_000 });
    await page.locator('#plots figure', { hasText: 'Learning curve' }).locator('[role=img][aria-label*=") ("]').waitFor();
    assert.equal(await f1Points(), 2);
    // Each point at the labeled rows its evaluation run measured on, as the server keeps them.
    const listed = await rawGlueCall(server, 'GetMLTaskRuns', { TransformId: await transformId(), Filter: { TaskRunType: 'EVALUATION' } });
    const labelCounts = (listed.body['TaskRuns'] as Array<{ Properties: { EvaluationTaskRunProperties: { LabelCount: number } } }>)
      .map((r) => r.Properties.EvaluationTaskRunProperties.LabelCount)
      .reverse();
    assert.ok(labelCounts[0]! < labelCounts[1]!, `label counts ${labelCounts.join(', ')}`);
    const f1 = /^F1: ([^;]*)/.exec(await chartValues('Learning curve'))![1]!;
    assert.deepEqual([...f1.matchAll(/\((\d+),/g)].map((m) => Number(m[1])), labelCounts);
    assert.equal(await page.locator('#evaluations tbody tr').count(), 2);
    // The second round held audit sets: the table says how many audit pairs the estimates were counted on.
    const raw = await rawGlueCall(server, 'GetMLTransform', { TransformId: await transformId() });
    const counts = (raw.body['EvaluationMetrics'] as { FindMatchesMetrics: { AuditPairCounts: { Precision: number; Recall: number } } }).FindMatchesMetrics.AuditPairCounts;
    const auditRow = page.locator('table.metrics tr', { hasText: 'Audit pairs counted' });
    assert.equal(await auditRow.locator('td').innerText(), `${counts.Precision} / ${counts.Recall}`);
    await shot('07-quality');

    // Another browser (no shared storage), and a reload: the same learning curve, from the server.
    const context = await browser.newContext({ viewport: VIEWPORT });
    const fresh = await context.newPage();
    await fresh.goto(`${server.endpoint}/ui/#/transform/${await transformId()}/quality`);
    await signIn(fresh, TEST_CREDENTIALS.accessKeyId, TEST_CREDENTIALS.secretAccessKey);
    await fresh.locator('#plots figure', { hasText: 'Learning curve' }).locator('[role=img][aria-label*=") ("]').waitFor();
    await fresh.reload();
    await fresh.locator('#evaluations tbody tr').nth(1).waitFor();
    const elsewhere = await fresh.locator('#plots figure', { hasText: 'Learning curve' }).locator('[role=img]').getAttribute('aria-label');
    assert.equal(elsewhere, await chartValues('Learning curve'));
    await context.close();
  });

  it('labels a set of more than nine groups with the keyboard (Shift+letter, g and a name)', { timeout: 60_000 }, async () => {
    // A labeling file made outside the UI: nine records of as many restaurants, one of a pair, a
    // tenth restaurant, then the pair's other record; the file suggests one group for all.
    const byEntity = new Map<string, string[]>();
    for (const [id, entity] of ds.truth) byEntity.set(entity, [...(byEntity.get(entity) ?? []), id]);
    const singles = [...byEntity.values()].filter((ids) => ids.length === 1).slice(0, 10).map((ids) => ids[0]!);
    const pair = [...byEntity.values()].find((ids) => ids.length === 2)!;
    const order = [...singles.slice(0, 9), pair[0]!, singles[9]!, pair[1]!];
    const records = new Map(ds.records.map((r) => [r['id']!, r]));
    const file = stringify([['labeling_set_id', 'label', ...ds.header], ...order.map((id) => ['wide-set', 'A', ...ds.header.map((h) => records.get(id)![h]!)])]);
    const s3 = s3Client(server);
    await s3.send(new PutObjectCommand({ Bucket: 'ui-restaurants', Key: 'elsewhere/labeling/part-00000.csv', Body: file }));
    const before = (await glueAs().send(new GetMLTransformCommand({ TransformId: await transformId() }))).LabelCount!;

    // A labeling file of another table is refused when opened, not after the labeling.
    await s3.send(new PutObjectCommand({ Bucket: 'ui-restaurants', Key: 'elsewhere/other-table.csv', Body: 'labeling_set_id,label,id,given_name\ns1,A,r1,Ann\n' }));
    await page.getByRole('link', { name: 'Label' }).click();
    await page.getByLabel('Labeling file or folder').fill('s3://ui-restaurants/elsewhere/other-table.csv');
    await page.getByLabel('Labeling file or folder').press('Enter');
    await page.locator('#open-status', { hasText: /not a labeling file of this transform's table: its columns given_name are not in the table/ }).waitFor();
    await s3.send(new PutObjectCommand({ Bucket: 'ui-restaurants', Key: 'elsewhere/twice.csv', Body: 'labeling_set_id,label,id,name,name\ns1,A,r1,x,x\n' }));
    await page.getByLabel('Labeling file or folder').fill('s3://ui-restaurants/elsewhere/twice.csv');
    await page.getByLabel('Labeling file or folder').press('Enter');
    await page.locator('#open-status', { hasText: /its column name appears twice/ }).waitFor();
    // Work opened can be discarded: the start screen comes back, and stays after a reload.
    await page.getByLabel('Labeling file or folder').fill('s3://ui-restaurants/elsewhere/labeling/');
    await page.getByLabel('Labeling file or folder').press('Enter');
    await page.locator('#labeling-progress', { hasText: 'Set 1 of 1' }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.locator('#discard-labels').click();
    await page.locator('#generate').waitFor();
    await page.reload();
    await page.locator('#generate').waitFor();
    await page.getByLabel('Labeling file or folder').fill('s3://ui-restaurants/elsewhere/labeling/');
    await page.getByLabel('Labeling file or folder').press('Enter');
    await page.locator('#labeling-progress', { hasText: 'Set 1 of 1' }).waitFor();
    const keys = await page.locator('table.records tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key') ?? ''));
    assert.deepEqual(keys, order);
    for (let i = 0; i < 10; i++) await page.keyboard.press(groupKey(i, true));
    // The tenth restaurant: a new group named by typing it; the pair's other record: Shift+J.
    await page.keyboard.press('g');
    await page.getByLabel(/Group for record 11/).fill('K');
    await page.getByLabel(/Group for record 11/).press('Enter');
    await page.keyboard.press('Shift+KeyJ');
    const groups = await page.locator('table.records tbody td.group').allInnerTexts();
    assert.deepEqual(groups, ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'J']);
    await shot('12-labeling-many-groups');
    // Changing the only set leaves the focus where it is: Enter confirms the set, and only then is
    // the focus on Submit (the Enter that confirms a set never submits).
    assert.equal(await page.locator('#submit-labels:focus').count(), 0);
    await page.keyboard.press('Enter');
    await page.locator('#submit-labels:focus').waitFor();
    await page.keyboard.press('Enter');
    await page.locator('#import-done').waitFor({ timeout: 60_000 });
    // The next round starts on the same screen, once: the labeling keys are gone with the work
    // (a key no longer changes, and saves back, the work just imported).
    assert.equal(await page.locator('#import-done').count(), 1);
    await page.locator('#generate:focus').waitFor();
    await page.keyboard.press('a');
    await page.reload();
    await page.locator('#generate').waitFor();
    assert.equal(await page.locator('#labeling-progress').count(), 0);
    const after = (await glueAs().send(new GetMLTransformCommand({ TransformId: await transformId() }))).LabelCount!;
    assert.equal(after, before + order.length);
    // The label file the UI wrote: the restaurants' grouping, eleven groups.
    const prefix = `_doppel-ui/${await transformId()}/labels/`;
    const written = ((await s3.send(new ListObjectsV2Command({ Bucket: 'ui-restaurants', Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
    const body = await (await s3.send(new GetObjectCommand({ Bucket: 'ui-restaurants', Key: written.at(-1)! }))).Body!.transformToString();
    const rows = (parse(body) as string[][]).slice(1);
    assert.deepEqual(rows.map((r) => r[2]), order);
    assert.deepEqual(rows.map((r) => r[1]), ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'J']);
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

  it('reviews a 100,000-record output page by page, largest and least confident groups first, without freezing the page', { timeout: 120_000 }, async () => {
    // An output as a findmatches job writes it (the table's columns, match_id, match_confidence_score),
    // of groups of one to four records with varied confidence.
    const total = 100_000;
    const rows: string[][] = [];
    const groups: Array<{ id: string; size: number; confidence: number }> = [];
    for (let id = 0; rows.length < total; id++) {
      const size = Math.min(1 + (id % 4), total - rows.length);
      const confidence = ((id * 7919) % 1000) / 1000;
      groups.push({ id: String(id), size, confidence });
      for (let k = 0; k < size; k++) {
        const record = ds.records[rows.length % ds.records.length]!;
        rows.push([...ds.header.map((h) => (h === 'id' ? `x${rows.length}` : record[h]!)), String(id), confidence.toFixed(4)]);
      }
    }
    const csv = stringify([[...ds.header, 'match_id', 'match_confidence_score'], ...rows]);
    const s3 = s3Client(server);
    await s3.send(new PutObjectCommand({ Bucket: 'ui-restaurants', Key: 'big-output/part-00000.csv', Body: csv }));
    await s3.send(new PutObjectCommand({ Bucket: 'ui-restaurants', Key: 'big-output/_SUCCESS', Body: '' }));
    const expected = groups
      .filter((g) => g.size > 1)
      .sort((a, b) => b.size - a.size || Number(a.confidence.toFixed(4)) - Number(b.confidence.toFixed(4)));

    await page.getByRole('link', { name: 'Review matches' }).click();
    await page.locator('#output-path').waitFor();
    await page.locator('#groups-summary').waitFor({ timeout: 50_000 });
    // A timer that runs while the output loads shows the page kept its turns; the longest task is measured.
    await page.evaluate(`(() => {
      window.uiTicks = 0;
      window.uiTimer = setInterval(() => window.uiTicks++, 50);
      window.uiLongest = 0;
      new PerformanceObserver((list) => { for (const e of list.getEntries()) window.uiLongest = Math.max(window.uiLongest, e.duration); }).observe({ entryTypes: ['longtask'] });
    })()`);
    const started = Date.now();
    await page.getByLabel('Find-matches output folder').fill('s3://ui-restaurants/big-output/');
    await page.getByLabel('Find-matches output folder').press('Enter');
    await page.locator('#groups-summary', { hasText: 'big-output' }).waitFor({ timeout: 100_000 });
    timings['review100kRecordsMs'] = Date.now() - started;
    const [ticks, longest] = JSON.parse(String(await page.evaluate('clearInterval(window.uiTimer), JSON.stringify([window.uiTicks, window.uiLongest])'))) as [number, number];
    timings['review100kLongestTaskMs'] = Math.round(longest);
    timings['review100kTimerTicks'] = ticks;
    assert.ok(ticks >= 2, `the page's timer ran ${ticks} times while ${total} records loaded in ${timings['review100kRecordsMs']} ms`);
    assert.match(await page.locator('#groups-summary').innerText(), new RegExp(`^${expected.length.toLocaleString('en')} groups`));

    const listed = () => page.locator('.groups button').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-match-id')));
    assert.deepEqual(await listed(), expected.slice(0, 50).map((g) => g.id));
    await page.locator('#next-groups').focus();
    await page.keyboard.press('Enter');
    await page.locator('#group-page', { hasText: 'groups 51–100' }).waitFor();
    assert.deepEqual(await listed(), expected.slice(50, 100).map((g) => g.id));
    // The focus moved to the page's first group: Enter opens it.
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: `Group ${expected[50]!.id}` }).waitFor();
    assert.equal(await page.locator('#group-detail tbody tr').count(), expected[50]!.size);
    await shot('13-review-paging');
  });

  it('shows the second account only its own transforms, and the first its own, READY with metrics', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const other = await context.newPage();
    await other.goto(`${server.endpoint}/ui/`);
    await signIn(other, OTHER.accessKeyId, OTHER.secretAccessKey);
    await other.getByRole('link', { name: 'other-account-transform' }).waitFor();
    assert.equal(await other.getByText('restaurants-ui').count(), 0);
    await shot('10-other-account', other);
    await context.close();
    // The first account's list: its transform READY, with its latest metrics.
    await page.locator('a.brand').click();
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'restaurants-ui' }) });
    await row.locator('.status', { hasText: 'READY' }).waitFor();
    assert.match(await row.innerText(), /0\.\d{3}/);
    await shot('11-transforms-list');
  });
});
