// The collector's web page (sync/collector/web.hpp) in a real headless Chromium
// (/usr/bin/chromium driven by playwright-core; axe-core for the accessibility audit).
// Each case starts its own collector (a SQLite file in a fresh folder, a free port) with
// three kiosks that have sent answers and their health over real HTTP:
//
//   node tests/web/test_web.mjs CASE      (ctest: "web: CASE")
//     fleet      log in, three kiosks, the silent one first and flagged, filter by state and site;
//                a coordinator limited to one site sees only its kiosks
//     downloads  the report and an XLSX downloaded from the exports page; a limited
//                coordinator cannot ask for another site's answers
//     lockout    five wrong passwords lock the account (then even the right one is refused)
//     session    no page or download without a session; forms without their CSRF token get 403
//     a11y       axe-core finds no serious or critical violation on the fleet page and the report
//     silent     a kiosk not heard from for more than an hour of its site's expected hours is
//                silent, one whose site was closed meanwhile is not, and a heartbeat unflags it
//     screenshots  (KOHTAAMO_SHOTS_DIR=docs/screenshots) desktop and 390 px phone pictures
//
// Environment: KOHTAAMO_COLLECTOR_BIN (the binary), KOHTAAMO_SOURCE_DIR (for config/surveys
// and config/lang). Time is driven by device_health.heard_ms in the database (sqlite3),
// never by sleeping.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { chromium } = require('playwright-core');

const BIN = process.env.KOHTAAMO_COLLECTOR_BIN;
const SRC = process.env.KOHTAAMO_SOURCE_DIR || path.resolve(here, '../..');
if (!BIN) throw new Error('set KOHTAAMO_COLLECTOR_BIN to the kohtaamo-collector binary');

const PASSWORD = 'oikea-salasana-123';
const KIOSKS = [
  { name: 'kirjasto-1', site: 'kirjasto' },
  { name: 'kirjasto-2', site: 'kirjasto' },
  { name: 'nuoret-1', site: 'nuorisotalo' },
];

function check(cond, what) {
  if (!cond) throw new Error('FAILED: ' + what);
  console.log('ok - ' + what);
}

const uuid = () => crypto.randomUUID();

class Testbed {
  async start({ hours = {} } = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kohtaamo-web-'));
    this.db = path.join(this.dir, 'collector.sqlite');
    this.tokens = {};
    let devices = '';
    for (const k of KIOSKS) {
      const token = crypto.randomBytes(24).toString('hex');
      const hash = execFileSync(BIN, ['hash-token'], { input: token + '\n' }).toString().trim();
      this.tokens[k.name] = token;
      k.device_id = k.device_id || uuid();
      devices += `[[device]]\nname = "${k.name}"\ntoken_hash = "${hash}"\n\n`;
    }
    const site = (id, name) => `[sites.${id}]\nname = "${name}"\nhours = "${hours[id] || 'always'}"\n\n`;
    this.config = path.join(this.dir, 'collector.toml');
    fs.writeFileSync(this.config, `[server]\nlisten = "127.0.0.1"\nport = 0\n\n[database]\nurl = "sqlite:collector.sqlite"\n\n` +
      `[export]\nsurveys = "${SRC}/config/surveys"\ntexts = "${SRC}/config/lang"\nmin_group = 5\n\n` +
      `[web]\nprefix = "/kohtaamo/"\n\n` + site('kirjasto', 'Kirjasto') + site('nuorisotalo', 'Nuorisotalo Kipinä') + devices);
    this.proc = spawn(BIN, ['--config', this.config], { env: { ...process.env, TZ: 'Europe/Helsinki' } });
    this.log = '';
    this.port = await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the collector did not start:\n' + this.log)), 20000);
      this.proc.stderr.on('data', (d) => {
        this.log += d.toString();
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.log);
        if (m) { clearTimeout(t); resolve(Number(m[1])); }
      });
      this.proc.on('exit', (code) => reject(new Error('the collector exited ' + code + ':\n' + this.log)));
    });
    this.base = `http://127.0.0.1:${this.port}/kohtaamo/`;
    this.account('anna');
    this.account('pekka', ['--sites', 'kirjasto']);
    for (const k of KIOSKS) await this.send(k, 6);
    return this;
  }

  account(name, extra = [], password = PASSWORD) {
    execFileSync(BIN, ['--config', this.config, 'account', 'add', name, ...extra], { input: password + '\n' });
  }

  health(k, over = {}) {
    return { app_version: '1.4.0', bundle_version: 3, config_version: '', pending: 0, oldest_pending_age_s: 0,
      free_disk_bytes: 5_200_000_000, uptime_s: 86400, last_error: '', ...over };
  }

  async post(k, p, body) {
    const text = JSON.stringify(body);
    const r = await fetch(`http://127.0.0.1:${this.port}${p}`, {
      method: 'POST', body: text,
      headers: { Authorization: 'Bearer ' + this.tokens[k.name], 'Content-Type': 'application/json' },
    });
    if (r.status >= 300) throw new Error(`${p}: ${r.status} ${await r.text()}`);
    return r;
  }

  // `n` complete responses of the family survey from kiosk `k`, with its health.
  async send(k, n) {
    const responses = [];
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const t = new Date(now - (i + 1) * 3600_000).toISOString();
      responses.push({ id: uuid(), survey_id: 'family', survey_version: 1, language: 'fi', status: 'complete',
        started_at: t, finished_at: t, site: k.site, event: '', flagged: false,
        answers: [{ question_id: 'idea', value: i % 2 ? 'Lisää satutunteja' : '0401234567', answered_at: t }] });
    }
    await this.post(k, '/v1/batches', { protocol: 1, batch_id: uuid(), device_id: k.device_id, responses,
      health: this.health(k, { last_error: k.name === 'nuoret-1' ? 'collector unreachable: timeout' : '' }) });
  }

  async heartbeat(k) {
    await this.post(k, '/v1/heartbeat', { protocol: 1, device_id: k.device_id, health: this.health(k) });
  }

  sql(statement) {
    return execFileSync('sqlite3', [this.db, statement]).toString().trim();
  }

  // The kiosk was last heard `minutes` ago.
  heardAgo(k, minutes) {
    const ms = Date.now() - minutes * 60_000;
    this.sql(`UPDATE device_health SET heard_ms = ${ms}, heard_at = '${new Date(ms).toISOString()}' WHERE device_id = '${k.device_id}'`);
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      const gone = new Promise((r) => this.proc.on('exit', r));
      this.proc.kill('SIGTERM');
      await gone;
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function browser() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
}

async function login(page, base, name = 'anna', password = PASSWORD) {
  await page.goto(base + 'login?lang=en');
  await page.fill('#name', name);
  await page.fill('#password', password);
  await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit].primary')]);
}

async function fleetRows(page) {
  return page.$$eval('#fleet tbody tr', (rows) => rows.map((r) => ({
    kiosk: r.dataset.kiosk, silent: r.classList.contains('silent'),
    state: r.querySelector('.badge').textContent, site: r.children[1].textContent })));
}

const cases = {
  async fleet(bed, b) {
    bed.heardAgo(KIOSKS[2], 180);  // nuoret-1: three hours without a word, its site always open
    const page = await (await b.newContext()).newPage();
    await login(page, bed.base);
    check(page.url().endsWith('/kohtaamo/fleet'), 'logging in opens the fleet page');
    let rows = await fleetRows(page);
    check(rows.length === 3, 'the fleet shows three kiosks');
    check(rows[0].kiosk === 'nuoret-1' && rows[0].silent && rows[0].state === 'Silent', 'the silent kiosk comes first, flagged silent');
    check(rows.filter((r) => r.silent).length === 1, 'exactly one kiosk is silent');
    check(rows[0].site === 'Nuorisotalo Kipinä', 'the site shows its name, not its id');
    const text = await page.textContent('#fleet');
    check(text.includes('collector unreachable: timeout') && text.includes('1.4.0') && text.includes('5.2 GB'),
      'the last error, app version and free disk are shown');
    await page.selectOption('#state', 'silent');
    await Promise.all([page.waitForLoadState('load'), page.click('form.filters button')]);
    rows = await fleetRows(page);
    check(rows.length === 1 && rows[0].kiosk === 'nuoret-1', 'the state filter shows the silent kiosk alone');
    await page.selectOption('#state', '');
    await page.selectOption('#site', 'kirjasto');
    await Promise.all([page.waitForLoadState('load'), page.click('form.filters button')]);
    rows = await fleetRows(page);
    check(rows.length === 2 && rows.every((r) => r.site === 'Kirjasto'), 'the site filter shows the two library kiosks');
    // in Finnish and Swedish
    await page.goto(bed.base + 'fleet?lang=sv');
    check((await page.textContent('h1')) === 'Kiosker' && (await page.getAttribute('html', 'lang')) === 'sv', 'the page is in Swedish');
    await page.goto(bed.base + 'fleet');
    check((await page.textContent('h1')) === 'Kiosker', 'the language choice is kept');
    // a coordinator limited to the library
    const other = await (await b.newContext({ locale: 'fi-FI' })).newPage();
    await login(other, bed.base, 'pekka');
    await other.goto(bed.base + 'fleet?lang=fi');
    rows = await fleetRows(other);
    check(rows.length === 2 && rows.every((r) => r.site === 'Kirjasto'), 'a coordinator limited to Kirjasto sees its kiosks only');
    check(!(await other.content()).includes('Nuorisotalo'), 'and nothing of the other site');
  },

  async downloads(bed, b) {
    const page = await (await b.newContext({ acceptDownloads: true })).newPage();
    await login(page, bed.base);
    await page.goto(bed.base + 'exports?lang=en');
    await page.check('input[name=format][value=report]');
    let [dl] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Download")')]);
    const report = fs.readFileSync(await dl.path(), 'utf8');
    check(dl.suggestedFilename().endsWith('.html') && report.includes('<html'), 'the report downloads as an HTML file');
    check(report.includes('Kirjasto') && report.includes('Nuorisotalo Kipinä') && !report.includes('>nuorisotalo<'),
      'the report names both sites by their names, not ids');
    check(report.includes('0401234567 <span class="times">(9 times)</span>') && report.split('0401234567').length === 2,
      'identical free texts are listed once, with their count');
    check(/<div class="table sr"><table><caption>/.test(report), "every chart's numbers are in a table for a screen reader");
    await page.check('input[name=format][value=xlsx]');
    await page.check('input[name=site][value=kirjasto]');
    [dl] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Download")')]);
    const xlsx = fs.readFileSync(await dl.path());
    check(dl.suggestedFilename().endsWith('.xlsx') && xlsx.subarray(0, 2).toString() === 'PK', 'the XLSX downloads as a workbook');
    const listing = execFileSync('python3', ['-c',
      'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print(sum(1 for n in z.namelist() if n.startswith("xl/worksheets/")))',
      await dl.path()]).toString().trim();
    check(Number(listing) >= 1, 'the workbook has a sheet');
    // the report in the browser
    await page.goto(bed.base + 'exports?lang=en');
    await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("Open the report")')]);
    check((await page.content()).includes('<svg') || (await page.content()).includes('<table'), 'the report opens in the browser');
    // a limited coordinator asking for the other site's answers
    const other = await (await b.newContext()).newPage();
    await login(other, bed.base, 'pekka');
    await other.goto(bed.base + 'exports?lang=en');
    check(!(await other.content()).includes('value="nuorisotalo"'), 'a limited coordinator is not offered the other site');
    const csrf = await other.getAttribute('input[name=csrf]', 'value');
    const r = await other.goto(bed.base + `download?csrf=${csrf}&format=long&site=nuorisotalo`);
    check(r.status() === 403, 'and asking for it anyway is 403');
    const bad = await other.goto(bed.base + `download?csrf=${csrf}&format=wide`);
    check(bad.status() === 400 && (await other.textContent('[role=alert]')).includes('exactly one survey'),
      'a download the export refuses is a page saying why (the wide CSV needs one survey)');
    const [own] = await Promise.all([other.waitForEvent('download'),
      other.evaluate((u) => { const a = document.createElement('a'); a.href = u; document.body.append(a); a.click(); },
        bed.base + `download?csrf=${csrf}&format=long`)]);
    const csv = fs.readFileSync(await own.path(), 'utf8');
    check(csv.includes('kirjasto') && !csv.includes('nuorisotalo'), "a limited coordinator's export holds its own site's answers only");
  },

  async lockout(bed, b) {
    const page = await (await b.newContext()).newPage();
    for (let i = 1; i <= 5; i++) {
      await login(page, bed.base, 'anna', 'wrong-password-' + i);
      const alert = await page.textContent('[role=alert]');
      if (i < 5) check(alert.includes('Wrong user name or password'), `wrong password ${i} is refused`);
      else check(alert.includes('locked until'), 'the fifth wrong password locks the account');
    }
    await login(page, bed.base, 'anna', PASSWORD);
    check(page.url().endsWith('/login') && (await page.textContent('[role=alert]')).includes('locked'),
      'while locked, even the right password is refused');
    const until = Number(bed.sql("SELECT locked_until_ms FROM web_accounts WHERE name = 'anna'"));
    check(until > Date.now() + 4 * 60_000, 'the lock is kept in the database, for five minutes');
    // the lock ends: the next five wrong ones lock it for longer
    bed.sql("UPDATE web_accounts SET locked_until_ms = 0 WHERE name = 'anna'");
    for (let i = 1; i <= 5; i++) await login(page, bed.base, 'anna', 'wrong-again-' + i);
    const again = Number(bed.sql("SELECT locked_until_ms FROM web_accounts WHERE name = 'anna'"));
    check(again > Date.now() + 9 * 60_000, 'the second lock is longer (ten minutes)');
    check(!bed.log.includes(PASSWORD) && !bed.log.includes('wrong-again'), 'no password is in the log');
  },

  async session(bed, b) {
    for (const p of ['', 'fleet', 'counts', 'exports', 'report?format=report', 'download?format=xlsx', 'download?format=long']) {
      const r = await fetch(bed.base + p, { redirect: 'manual' });
      const body = await r.text();
      check(r.status === 303 && new URL(r.headers.get('location'), bed.base + p).pathname === '/kohtaamo/login' &&
        !body.includes('kirjasto'),
        `GET /kohtaamo/${p} without a session goes to the login page`);
    }
    const forged = await fetch(bed.base + 'fleet', { headers: { Cookie: 'kohtaamo_session=' + 'a'.repeat(48) } , redirect: 'manual' });
    check(forged.status === 303, 'an unknown session cookie is no session');
    // a login posted without its token
    const r = await fetch(bed.base + 'login', { method: 'POST', redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `name=anna&password=${PASSWORD}` });
    check(r.status === 403 && !r.headers.get('set-cookie')?.includes('kohtaamo_session='), 'a login without its CSRF token is 403');
    // in the browser: the cookie's attributes, and the logout form without its token
    const context = await b.newContext();
    const page = await context.newPage();
    await login(page, bed.base);
    const cookie = (await context.cookies()).find((c) => c.name === 'kohtaamo_session');
    check(cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict' && cookie.path === '/kohtaamo/',
      'the session cookie is HttpOnly, Secure, SameSite=Strict, for /kohtaamo/ only');
    await page.evaluate(() => document.querySelector('header form input[name=csrf]').remove());
    const [resp] = await Promise.all([page.waitForResponse((x) => x.url().endsWith('/logout')), page.click('header form button')]);
    check(resp.status() === 403, 'the logout form posted without its CSRF token is refused with 403');
    await page.goto(bed.base + 'fleet');
    check(page.url().endsWith('/fleet'), 'and the session is still there');
    const fake = await page.goto(bed.base + 'download?format=long&csrf=not-the-token');
    check(fake.status() === 403, 'a download with a wrong CSRF token is 403');
    await Promise.all([page.waitForLoadState('load'), page.click('header form button')]);
    check(page.url().endsWith('/login'), 'logging out goes to the login page');
    await page.goto(bed.base + 'fleet');
    check(page.url().endsWith('/login'), 'after logging out the pages need a login again');
    const stored = Number(bed.sql('SELECT count(*) FROM web_sessions'));
    check(stored === 0, 'the session row is gone from the database');
  },

  async a11y(bed, b) {
    bed.heardAgo(KIOSKS[2], 180);
    const axe = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    for (const width of [1280, 390]) {
      const context = await b.newContext({ bypassCSP: true, viewport: { width, height: 900 } });
      const page = await context.newPage();
      await login(page, bed.base);
      const targets = [['fleet', bed.base + 'fleet?lang=fi'], ['login', null], ['report', null]];
      const csrf = await page.getAttribute('header input[name=csrf]', 'value');
      targets[2][1] = bed.base + `report?csrf=${csrf}&lang=fi`;
      for (const [name, url] of targets) {
        if (name === 'login') {
          const anon = await (await b.newContext({ bypassCSP: true, viewport: { width, height: 900 } })).newPage();
          await anon.goto(bed.base + 'login?lang=fi');
          await audit(anon, axe, `the login page at ${width} px`);
          continue;
        }
        await page.goto(url);
        await audit(page, axe, `the ${name} page at ${width} px`);
        if (width === 390) {
          const wide = await page.evaluate(() => document.documentElement.scrollWidth);
          check(wide <= 392, `the ${name} page fits a 390 px phone without sideways scrolling (${wide} px)`);
          if (name === 'report') {
            const shown = await page.$$eval('svg', (all) => all.filter((s) => getComputedStyle(s).display !== 'none')
              .map((s) => ({ cls: s.getAttribute('class'), scale: s.getBoundingClientRect().width / s.viewBox.baseVal.width })));
            const charts = shown.filter((s) => s.cls);
            check(charts.length > 0 && charts.every((s) => s.cls === 'narrow' && s.scale > 0.9),
              `on a phone the report's charts are in their narrow layout, drawn at about full size (${charts.map((s) => s.scale.toFixed(2))})`);
          }
        }
      }
    }
  },

  async silent(bed, b) {
    // nuoret-1's site is open only on a weekday other than today's, from 00 to 24: three
    // hours without a word today are outside its hours, so it is not silent.
    const page = await (await b.newContext()).newPage();
    await login(page, bed.base);
    const kiosk = KIOSKS[2];
    bed.heardAgo(kiosk, 45);
    await page.goto(bed.base + 'fleet?lang=en');
    check(!(await fleetRows(page)).find((r) => r.kiosk === 'nuoret-1').silent, 'heard 45 minutes ago: not silent');
    bed.heardAgo(kiosk, 180);
    await page.goto(bed.base + 'fleet?lang=en');
    check((await fleetRows(page)).find((r) => r.kiosk === 'nuoret-1').silent, 'three hours of open hours without a word: silent');
    await bed.heartbeat(kiosk);
    await page.goto(bed.base + 'fleet?lang=en');
    const rows = await fleetRows(page);
    check(!rows.find((r) => r.kiosk === 'nuoret-1').silent && rows.every((r) => !r.silent), 'a heartbeat: no longer silent');
    await bed.stop();
    // the same three hours at a site that was closed meanwhile
    const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    const helsinki = new Date(new Date().toLocaleString('en-US', { timeZone: 'Europe/Helsinki' }));
    const closed = days[(helsinki.getDay() + 3) % 7];  // three days from today: open neither today nor in the last three hours
    const bed2 = await new Testbed().start({ hours: { nuorisotalo: `${closed} 00-24` } });
    try {
      const p2 = await (await b.newContext()).newPage();
      await login(p2, bed2.base);
      bed2.heardAgo(kiosk, 180);
      await p2.goto(bed2.base + 'fleet?lang=en');
      check(!(await fleetRows(p2)).find((r) => r.kiosk === 'nuoret-1').silent,
        `three hours without a word while its site is closed (open ${closed} only): not silent`);
      check((await p2.textContent('main')).includes(`${closed} 00-24`), 'the site\'s expected hours are shown');
    } finally {
      await bed2.stop();
    }
  },

  async screenshots(bed, b) {
    const out = process.env.KOHTAAMO_SHOTS_DIR;
    if (!out) { console.log('ok - # skip: set KOHTAAMO_SHOTS_DIR to write the pictures'); return; }
    bed.heardAgo(KIOSKS[2], 180);
    for (const [suffix, viewport] of [['', { width: 1280, height: 800 }], ['-phone', { width: 390, height: 844 }]]) {
      const context = await b.newContext({ viewport, deviceScaleFactor: 1 });
      const page = await context.newPage();
      await page.goto(bed.base + 'login?lang=fi');
      await page.screenshot({ path: path.join(out, `collector-login${suffix}.png`) });
      await login(page, bed.base);
      const csrf = await page.getAttribute('header input[name=csrf]', 'value');
      for (const [name, url] of [['fleet', 'fleet?lang=fi'], ['counts', 'counts?lang=fi&by=day'], ['exports', 'exports?lang=fi'],
        ['report', `report?csrf=${csrf}&lang=fi`]]) {
        await page.goto(bed.base + url);
        await page.screenshot({ path: path.join(out, `collector-${name}${suffix}.png`), fullPage: name !== 'report' });
      }
    }
    console.log('ok - screenshots in ' + out);
  },
};

async function audit(page, axe, what) {
  await page.addScriptTag({ content: axe });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) console.log(`# ${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
  check(bad.length === 0, `axe-core: no serious or critical violation on ${what}`);
}

const name = process.argv[2];
if (!cases[name]) {
  console.error('usage: test_web.mjs ' + Object.keys(cases).join('|'));
  process.exit(2);
}
const bed = new Testbed();
let b;
try {
  await bed.start();
  b = await browser();
  await cases[name](bed, b);
  console.log(`# ${name}: passed`);
} catch (e) {
  console.error(e.stack || String(e));
  if (bed.log) console.error('--- collector log ---\n' + bed.log.split('\n').slice(-30).join('\n'));
  process.exitCode = 1;
} finally {
  if (b) await b.close();
  await bed.stop();
}
