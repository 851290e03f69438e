// The operator console in a real browser: headless Chromium (Debian's) driven
// by playwright-core against a provisiond this test starts. Every check reads
// what the page shows; the API is used only to cause things and to know what
// the page should show.
//
//   node console_test.mjs --binary build/app/provisiond --artifacts DIR [--console-dir console]
//
// --console-dir serves the console from a folder (PROVISIOND_CONSOLE_DIR)
// instead of the copy built into the binary, for development. Screenshots
// and provisiond.log go to --artifacts. Exits 1 on the first failed check.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import {
  TestFailure, apiClient, check, chromiumPath, eventually, loadPlaywright, see, startProvisiond, until,
} from './harness.mjs';

const { values: opts } = parseArgs({
  options: {
    binary: { type: 'string', default: process.env.PROVISIOND_BINARY ?? '' },
    artifacts: { type: 'string', default: process.env.CONSOLE_TEST_ARTIFACTS ?? '' },
    'console-dir': { type: 'string', default: '' },
  },
});
const artifacts = path.resolve(opts.artifacts || fs.mkdtempSync('/tmp/console-test-'));
fs.mkdirSync(artifacts, { recursive: true });
for (const f of fs.readdirSync(artifacts)) if (f.endsWith('.png')) fs.rmSync(path.join(artifacts, f));

// Steps take 0.8-1.2 s each on the simulation clusters, so a request's
// progress is there to be watched; sim-us-east-1 is unreachable, so its
// connectivity test fails; webhooks may call this provisiond itself.
const CONFIG = {
  kafka: { enabled: false },
  simulation: {
    minDelayMs: 800, maxDelayMs: 1200,
    clusters: { 'sim-us-east-1': { reachable: false } },
  },
  webhooks: { allow: ['127.0.0.0/8'], retryDelaysMs: [600000] },
};

const results = [];
let page;
let shotNo = 0;

async function shot(name) {
  const file = path.join(artifacts, `${String(++shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${e instanceof TestFailure ? e.message : e.stack}`);
    if (page) await shot(`failed-${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
    throw e;
  }
}

/** The page was never reloaded since `markPage` (a reload forgets the mark). */
async function notReloaded() {
  check(await page.evaluate(() => window.__consoleTestMark === 'kept'), 'the page was reloaded (its mark is gone)');
}

const submission = (id, extra = {}) => ({
  id, tenantId: 'acme', orderId: `order-${id}`, type: 'vps', region: 'eu-west-1',
  resources: { cpu: 2, memoryGb: 4, storageGb: 40 }, ...extra,
});

async function stepStatuses(scope) {
  return page.$$eval(`${scope} table.steps tbody tr`, (rows) => rows.map((r) => [r.dataset.step, r.dataset.status]));
}

async function waitCompleted(id, what) {
  await until(page, `${what}: 4 steps Completed on ${id}'s page`, (rid) => {
    const root = document.querySelector('main');
    const rows = [...document.querySelectorAll('.detail-main table.steps tbody tr')];
    return location.hash === `#/requests/${rid}` && root.dataset.state === 'Completed' && rows.length === 4 &&
      rows.every((r) => r.dataset.status === 'Completed');
  }, id);
}

/** The detail page's timeline lists exactly the journal's events of `id`. */
async function timelineMatchesJournal(api, id) {
  const events = await api.get(`/v1/requests/${id}/events`);
  const expected = events.map((e) => `${e.seq}:${e.type}`).join();
  try {
    await until(page, `the timeline of ${id} to hold its ${events.length} events`, (want) =>
      [...document.querySelectorAll('ol.timeline button.event')].map((b) => `${b.dataset.seq}:${b.dataset.type}`).join() === want,
    expected);
  } catch (e) {
    const shown = await page.$$eval('ol.timeline button.event', (bs) => bs.map((b) => `${b.dataset.seq}:${b.dataset.type}`));
    throw new TestFailure(`${e.message}: shown ${shown.join()}, journal ${expected}`);
  }
  return events;
}

async function main() {
  const { chromium } = await loadPlaywright();
  const server = await startProvisiond({ binary: opts.binary, artifacts, config: CONFIG,
    consoleDir: opts['console-dir'] ? path.resolve(opts['console-dir']) : '' });
  const api = apiClient(server.url, server.adminKey);
  const run = randomBytes(3).toString('hex');
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  const pageErrors = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // A CSP refusal (inline code, a file from elsewhere) is only a console message.
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) pageErrors.push(m.text());
    });

    await step('the console loads from /console/ and its stream goes live', async () => {
      const res = await page.goto(`${server.url}/console/`);
      check(res.ok(), `/console/ answered ${res.status()}`);
      check((res.headers()['content-type'] ?? '').startsWith('text/html'), 'the console is not served as HTML');
      // Without a key the API answers 401: the stream is not live until one is given.
      await see(page, '#stream-status:not([data-status="live"])', 'the stream not to be live without a key');
      await page.fill('#api-key', server.adminKey);
      await page.click('#api-key-apply');
      await see(page, '#stream-status[data-status="live"]', 'the live stream indicator to say live');
      check(page.url().endsWith('#/requests'), `the console opened at ${page.url()}, not #/requests`);
      await page.evaluate(() => { window.__consoleTestMark = 'kept'; });
    });

    const first = `req-console-${run}-1`;
    await step('a submitted request appears in the list and completes there, live', async () => {
      await see(page, 'table.requests', 'the request table');
      const columns = () => page.$$eval('table.requests thead th', (ths) => ths.map((t) => Math.round(t.getBoundingClientRect().left)));
      const before = await columns();
      await api.post('/v1/requests', submission(first));
      await see(page, `tr[data-request-id="${first}"]`, `the row of ${first} (the list follows the stream)`);
      await see(page, `tr[data-request-id="${first}"][data-state="Completed"]`, `${first}'s row to say Completed`);
      const after = await columns();
      check(JSON.stringify(before) === JSON.stringify(after), `the table's columns moved while it updated: ${before} → ${after}`);
      const steps = await page.$$eval(`tr[data-request-id="${first}"] .mini-step`, (s) => s.map((x) => x.dataset.status));
      check(steps.join() === 'Completed,Completed,Completed,Completed', `the row's steps show ${steps}`);
      await notReloaded();
    });

    const watched = `req-console-${run}-2`;
    await step("a request's detail page shows its four steps reach Completed without reloading", async () => {
      // Open the page first, then submit: everything it shows came live.
      await page.evaluate((id) => { location.hash = `#/requests/${id}`; }, watched);
      await see(page, 'h1 .pill[data-value="not found"]', `the page of ${watched} to say it does not exist yet`);
      await page.evaluate(() => {
        window.__seenStatuses = new Set();
        const note = () => document.querySelectorAll('.detail-main table.steps tbody tr')
          .forEach((r) => window.__seenStatuses.add(`${r.dataset.step}:${r.dataset.status}`));
        new MutationObserver(note).observe(document.querySelector('main'), { subtree: true, attributes: true, childList: true });
      });
      await api.post('/v1/requests', submission(watched));
      await waitCompleted(watched, 'the detail page');
      const seen = await page.evaluate(() => [...window.__seenStatuses]);
      for (const s of ['allocate', 'configure', 'activate', 'verify'])
        check(seen.includes(`${s}:Running`) && seen.includes(`${s}:Completed`),
          `step ${s} was not seen Running then Completed on the page (seen: ${seen.join(', ')})`);
      const attempts = await page.$$eval('.detail-main table.steps tbody tr td.num', (tds) => tds.map((t) => t.textContent));
      check(attempts.join() === '1,1,1,1', `attempts shown: ${attempts}`);
      const summary = await api.get(`/v1/requests/${watched}`);
      const ipv4 = await page.$eval('.detail-main dl.endpoints', (dl) => dl.textContent);
      check(ipv4.includes(summary.endpoints.ipv4), `the endpoints do not show ${summary.endpoints.ipv4}: ${ipv4}`);
      const resources = await page.$$eval('.detail-main table.resources tbody tr', (rows) => rows.length);
      check(resources === summary.allocatedResources.length,
        `${resources} resources shown, the API has ${summary.allocatedResources.length}`);
      await notReloaded();
    });

    await step('the timeline holds every event and one shows the state as of that event', async () => {
      const events = await timelineMatchesJournal(api, watched);
      const configure = events.find((e) => e.type === 'step_started' && e.data.step === 'configure');
      await page.click(`ol.timeline button.event[data-seq="${configure.seq}"]`);
      await see(page, `.as-of[data-seq="${configure.seq}"]`, `the state as of event #${configure.seq}`);
      const asOf = await api.get(`/v1/requests/${watched}/state?at=${configure.seq}`);
      const state = await page.$eval('.as-of', (el) => el.dataset.state);
      check(state === asOf.state && state === 'Configuring', `as of #${configure.seq} the page says ${state}, the replay ${asOf.state}`);
      const steps = await stepStatuses('.as-of');
      check(JSON.stringify(steps) === JSON.stringify(asOf.steps.map((s) => [s.name, s.status])),
        `as-of steps ${JSON.stringify(steps)} differ from the replay`);
      check(steps[0][1] === 'Completed' && steps[1][1] === 'Running', `as-of steps ${JSON.stringify(steps)}`);
      await shot('request-detail');
      await notReloaded();
    });

    const big = `req-console-${run}-3`;
    await step('a request that matches an approval rule raises the badge and a toast, live', async () => {
      await page.click('nav a[data-nav="requests"]');
      await see(page, 'table.requests', 'the request table');
      check(await page.$eval('#approvals-badge', (b) => b.dataset.count) === '0', 'the badge counts before any approval');
      await api.post('/v1/approval-rules', { name: `Console test big VPS ${run}`, priority: 10,
        conditions: { minCpu: 16, types: ['vps'] } }, { expect: [200, 201] });
      await api.post('/v1/requests', submission(big, { resources: { cpu: 16, memoryGb: 32, storageGb: 100 } }));
      const toast = await see(page, `.toasts [data-testid="approval-toast-${big}"]`, `the toast for ${big}`);
      const text = await toast.textContent();
      check(text.includes(big) && text.includes(`Console test big VPS ${run}`), `the toast says: ${text}`);
      await see(page, '#approvals-badge[data-count="1"]', 'the Approvals badge to count 1');
      check((await page.textContent('#approvals-badge')).trim() === '1', 'the badge does not show 1');
      check(await page.getAttribute('#nav-approvals', 'aria-label') === 'Approvals, 1 pending', 'the nav link does not say 1 pending');
      check(await page.$eval('#toasts', (t) => t.getAttribute('aria-live')) === 'polite', 'the toasts are not in an aria-live region');
      await shot('approval-notification');
      await notReloaded();
    });

    await step('the request is approved from the console and completes', async () => {
      await page.click(`.toasts [data-testid="approval-toast-${big}"] a`);
      const card = `article.approval[data-request-id="${big}"]`;
      await see(page, card, `${big}'s approval card`);
      const rule = await page.textContent(`${card} .rule`);
      check(rule.includes(`Console test big VPS ${run}`) && rule.includes('minCpu'), `the card's rule says: ${rule}`);
      await page.fill(`${card} input[name="comment"]`, 'capacity checked by the console test');
      await page.click(`${card} button[data-action="approve"]`);
      await see(page, `${card}[data-decided="approve"]`, 'the approval to be accepted');
      await see(page, '#approvals-badge[data-count="0"]', 'the badge to go back to 0');
      const events = await api.get(`/v1/requests/${big}/events`);
      const approved = events.find((e) => e.type === 'request_approved');
      check(approved?.data.comment === 'capacity checked by the console test', 'the journal has no approval with the comment');
      await page.click(`${card} h2 a`);
      await waitCompleted(big, 'the approved request');
      await timelineMatchesJournal(api, big);
      await shot('approved-completed');
      await notReloaded();
    });

    await step("a cluster's connectivity test shows success and latency, and a failure", async () => {
      await page.click('nav a[data-nav="clusters"]');
      const card = 'article.cluster[data-cluster-id="sim-eu-west-1"]';
      await see(page, card, 'the sim-eu-west-1 card');
      const cluster = await api.get('/v1/clusters/sim-eu-west-1');
      await until(page, 'the CPU bar to show what the API says is used', ([sel, used]) =>
        document.querySelector(`${sel} [role="meter"][aria-label="CPU"]`)?.getAttribute('aria-valuenow') === String(used),
      [card, cluster.used.cpu]);
      check(cluster.used.cpu > 0, 'nothing is used on sim-eu-west-1 after three requests');
      check(await page.$$eval(`${card} [role="meter"]`, (m) => m.length) === 4, 'not four capacity bars');
      await page.click(`${card} button[data-action="test"]`);
      await see(page, `${card} .test-result[data-outcome="success"]`, 'the test to succeed');
      const text = await page.textContent(`${card} .test-result`);
      check(/^Reachable: answered in \d[\d,]* ms$/.test(text.trim()), `the result says: ${text}`);
      check(/^\d+$/.test(await page.$eval(`${card} .test-result`, (el) => el.dataset.latency)), 'no latency recorded');
      const down = 'article.cluster[data-cluster-id="sim-us-east-1"]';
      await page.click(`${down} button[data-action="test"]`);
      await see(page, `${down} .test-result[data-outcome="failure"]`, 'the unreachable cluster to fail its test');
      // The provisioning switch writes the cluster and shows what was saved.
      await page.click(`${down} input[role="switch"]`);
      await eventually('sim-us-east-1 to be switched off', async () =>
        (await api.get('/v1/clusters/sim-us-east-1')).provisioningEnabled === false);
      await until(page, 'the switch to show off once saved', (sel) => {
        const sw = document.querySelector(`${sel} input[role="switch"]`);
        return !sw.checked && !sw.disabled;
      }, down);
      await page.click(`${down} input[role="switch"]`);
      await eventually('sim-us-east-1 to be switched on again', async () =>
        (await api.get('/v1/clusters/sim-us-east-1')).provisioningEnabled === true);
      await shot('cluster-test');
      await notReloaded();
    });

    const manual = `req-console-${run}-4`;
    const secret = `console-secret-${randomBytes(8).toString('hex')}`;
    await step('a manual request is completed through the form; the secret stays out of the page', async () => {
      await api.post('/v1/clusters', { id: `vendor-${run}`, name: 'Vendor rack', type: 'manual', region: 'eu-manual-1',
        capacity: { cpu: 64, memoryGb: 256, storageGb: 4000, vmSlots: 10 }, health: 'online', provisioningEnabled: true,
        connection: {} }, { expect: [201] });
      await page.click('nav a[data-nav="manual"]');
      await see(page, '#manual-status', 'the manual queue');
      await api.post('/v1/requests', submission(manual, { region: 'eu-manual-1', provider: 'manual' }));
      const card = `article.manual[data-request-id="${manual}"]`;
      await see(page, card, `${manual} in the queue (the page follows the stream)`);
      await page.fill(`${card} input[name="host"]`, '10.1.2.3');
      await page.fill(`${card} input[name="username"]`, 'root');
      await page.fill(`${card} input[name="secret-password"]`, secret);
      await page.fill(`${card} textarea[name="endpoints"]`, 'ssh=ssh://root@10.1.2.3:22');
      await page.fill(`${card} input[name="note"]`, 'racked by the console test');
      await page.click(`${card} button[type="submit"]`);
      await see(page, `${card}[data-delivered="true"]`, 'the delivery to be accepted');
      check(await page.inputValue(`${card} input[name="secret-password"]`) === '', 'the password field was not emptied');
      const leaks = await page.evaluate((s) => {
        const found = [];
        for (const [name, store] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]])
          for (let i = 0; i < store.length; i++) {
            const k = store.key(i);
            if (k.includes(s) || (store.getItem(k) ?? '').includes(s)) found.push(name);
          }
        if (location.href.includes(s)) found.push('the URL');
        if (document.cookie.includes(s)) found.push('a cookie');
        if (document.documentElement.outerHTML.includes(s)) found.push('the DOM');
        return found;
      }, secret);
      check(leaks.length === 0, `the secret is in ${leaks.join(', ')}`);
      await page.click(`${card} h2 a`);
      await waitCompleted(manual, 'the manual request');
      await timelineMatchesJournal(api, manual);
      const creds = await api.get(`/v1/requests/${manual}/credentials`, { headers: { 'X-Tenant-Id': 'acme' } });
      check(creds.password === secret && creds.host === '10.1.2.3', 'the API did not get the secret as typed');
      await shot('manual-completed');
      await notReloaded();
    });

    await step('tenants show quota against usage as gauges', async () => {
      await api.put('/v1/tenants/acme/quota', { maxInstances: 10, maxCpu: 64 });
      const usage = await api.get('/v1/tenants/acme/usage');
      await page.click('nav a[data-nav="tenants"]');
      const card = 'article.tenant[data-tenant-id="acme"]';
      await see(page, card, "acme's card (seen in the request list)");
      await until(page, 'the instances gauge to match the API', ([sel, used]) => {
        const m = document.querySelector(`${sel} [role="meter"][aria-label="Instances"]`);
        return m?.getAttribute('aria-valuenow') === String(used) && m.getAttribute('aria-valuemax') === '10';
      }, [card, usage.usage.instances]);
      const storage = await page.$eval(`${card} [role="meter"][aria-label="Storage"]`, (m) => m.getAttribute('aria-valuetext'));
      check(storage.includes('no limit'), `storage has no quota but its gauge says ${storage}`);
      await shot('tenants');
      await notReloaded();
    });

    await step("a tenant's webhook and its delivery history are shown", async () => {
      const hook = await api.post('/v1/tenants/acme/webhooks', { url: `${server.url}/healthz`,
        events: ['provisioning.completed'], description: 'console test' }, { expect: [201] });
      await page.click('nav a[data-nav="webhooks"]');
      await see(page, `tr[data-webhook-id="${hook.id}"]`, 'the webhook in the list');
      const after = `req-console-${run}-5`;
      await api.post('/v1/requests', submission(after));
      await eventually('the delivery of provisioning.completed to be attempted', async () => {
        const d = await api.get(`/v1/tenants/acme/webhooks/${hook.id}/deliveries`);
        return d.items.some((x) => x.attempts.length > 0);
      });
      await page.click(`tr[data-webhook-id="${hook.id}"] button`);
      // POST /healthz is a 405: the attempt is a failure with that status.
      await until(page, 'a delivery row with its HTTP 405 attempt', () =>
        [...document.querySelectorAll('table.deliveries tbody tr')].some((r) => r.textContent.includes('HTTP 405')));
      await shot('webhooks');
      await notReloaded();
    });

    await step('the API key goes out only as a Bearer header; after a drop the stream resumes where the server said',
      async () => {
        await page.click('nav a[data-nav="requests"]');
        await see(page, 'table.requests', 'the request table');
        const events = await api.get(`/v1/requests/${first}/events`);
        const resumeAt = events[events.length - 1].position;
        const seen = [];
        let fakeDrop = true;
        await page.route('**/v1/events/stream*', async (route) => {
          const req = route.request();
          seen.push({ url: req.url(), lastEventId: await req.headerValue('last-event-id'),
            auth: await req.headerValue('authorization') });
          if (!fakeDrop) return route.continue();
          // The first connection after the key changes: the server says we
          // were too slow and names where to resume.
          fakeDrop = false;
          return route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' },
            body: `retry: 2000\n\n: heartbeat\n\nevent: dropped\ndata: {"reason":"test","lastEventId":${resumeAt}}\n\n` });
        });
        const apiAuth = [];
        const onRequest = async (r) => {
          if (new URL(r.url()).pathname.startsWith('/v1/')) apiAuth.push(await r.headerValue('authorization'));
        };
        page.on('request', onRequest);
        const key = server.adminKey;
        await page.fill('#api-key', key);
        await page.click('#api-key-apply');
        await eventually('the stream to reconnect after the drop', () => seen.length >= 2);
        check(seen[1].lastEventId === String(resumeAt),
          `the reconnect sent Last-Event-ID ${seen[1].lastEventId}, not ${resumeAt}`);
        check(seen.every((x) => x.auth === `Bearer ${key}` && !x.url.includes(key)), `the stream was opened without the key, or with it in the URL: ${JSON.stringify(seen)}`);
        await see(page, '#stream-status[data-status="live"]', 'the stream to be live again');
        const later = `req-console-${run}-6`;
        await api.post('/v1/requests', submission(later));
        await see(page, `tr[data-request-id="${later}"]`, 'a new request on the resumed stream');
        check(apiAuth.length > 0 && apiAuth.every((a) => a === `Bearer ${key}`), `API calls without the key: ${apiAuth}`);
        const stored = await page.evaluate((k) => [localStorage, sessionStorage].some((st) =>
          Object.keys(st).some((n) => n.includes(k) || st.getItem(n).includes(k))) || location.href.includes(k) ||
          document.cookie.includes(k), key);
        check(!stored, 'the API key is in storage, a cookie or the URL');
        page.off('request', onRequest);
        await page.unroute('**/v1/events/stream*');
        await page.fill('#api-key', '');
        await page.click('#api-key-apply');
        await see(page, '#stream-status:not([data-status="live"])', 'the stream to stop without the key');
        await page.fill('#api-key', key);
        await page.click('#api-key-apply');
        await see(page, '#stream-status[data-status="live"]', 'the stream to be live with the key again');
        await notReloaded();
      });

    await step('every control is labelled, reachable by keyboard with visible focus, and the page fits 1366 px', async () => {
      const problems = [];
      for (const route of ['requests', `requests/${watched}`, 'approvals', 'manual', 'clusters', 'tenants', 'webhooks']) {
        await page.evaluate((r) => { location.hash = `#/${r}`; }, route);
        await see(page, 'main h1', `the heading of #/${route}`);
        await until(page, `#/${route} to finish loading`, () => !document.querySelector('main').textContent.includes('Loading…'));
        const found = await page.evaluate(() => {
          const out = [];
          const named = (el) => (el.labels && el.labels.length > 0 && [...el.labels].some((l) => l.textContent.trim())) ||
            el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.getAttribute('title');
          for (const el of document.querySelectorAll('input, select, textarea'))
            if (el.type !== 'hidden' && !named(el)) out.push(`${el.tagName.toLowerCase()}[name=${el.name}] has no label`);
          for (const el of document.querySelectorAll('button, a[href]'))
            if (!(el.textContent.trim() || el.getAttribute('aria-label'))) out.push(`${el.tagName.toLowerCase()} has no name`);
          if (document.documentElement.scrollWidth > 1366) out.push(`the page is ${document.documentElement.scrollWidth} px wide`);
          return out;
        });
        problems.push(...found.map((p) => `#/${route}: ${p}`));
      }
      check(problems.length === 0, problems.join('; '));
      // From the top of the page, Tab walks the skip link, then the nav.
      await page.evaluate(() => {
        location.hash = '#/requests';
        // Focusing the body makes it the point Tab starts from.
        document.body.tabIndex = -1;
        document.body.focus();
        document.body.removeAttribute('tabindex');
      });
      const walked = [];
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press('Tab');
        walked.push(await page.evaluate(() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          return { text: el.textContent.trim().split(/\s+/)[0], outline: style.outlineStyle !== 'none' && style.outlineWidth !== '0px' };
        }));
      }
      const names = walked.map((w) => w.text);
      for (const n of ['Requests', 'Approvals', 'Manual', 'Clusters', 'Tenants', 'Webhooks'])
        check(names.includes(n), `Tab never reached the ${n} link (reached: ${names.join(', ')})`);
      check(walked.every((w) => w.outline), `a focused element shows no outline: ${JSON.stringify(walked)}`);
      await notReloaded();
    });

    await step('the page threw nothing and the browser refused nothing', async () => {
      check(pageErrors.length === 0, `the page: ${pageErrors.join(' | ')}`);
    });
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
}

main().then(() => {
  console.log(`${results.length} passed, 0 failed`);
  console.log(`screenshots in ${artifacts}`);
}, (e) => {
  const passed = results.filter((r) => r.ok).length;
  if (!results.some((r) => !r.ok)) console.log(`FAIL ${e instanceof TestFailure ? e.message : e.stack}`);
  console.log(`${passed} passed, 1 failed`);
  console.log(`screenshots and provisiond.log in ${artifacts}`);
  process.exitCode = 1;
});
