// `npm run bench`: measures web-executors on the served site in Chromium, Firefox and
// WebKit (BENCH_BROWSERS to choose), beside a raw postMessage echo worker (the floor of
// every JavaScript worker pool), rayon::spawn, CPython's executors and native Rust.
// Every figure is a median of at least BENCH_RUNS runs, printed with its spread; the
// machine's load is read before and after, and a figure whose spread is too wide to
// trust is flagged. Prints the goals of issue 18 with whether this run met them, and
// writes everything to bench/results.json.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import { launchChromium, openPage, openWebDriverPage, queueAtOnce, serveSite } from '../tests/e2e/harness.mjs';

const ENGINES = (process.env.BENCH_BROWSERS ?? 'chromium,firefox,webkit').split(',').map((b) => b.trim());
const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 3));
const TRIPS = Number(process.env.BENCH_TRIPS ?? 300);
const BURST = Number(process.env.BENCH_BURST ?? 100_000);
const MAP_ITEMS = 100_000;
const LIVE_JOBS = Number(process.env.BENCH_LIVE_JOBS ?? 50_000);
const N = 50_000_000;
/** A figure whose runs spread wider than this share of its median is not to be trusted. */
const NOISY = 0.25;
const SECTION_LIMIT_MS = 240_000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => Math.max(...xs) - Math.min(...xs);
const loadAverage = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/** In the page: `runs` timings (ms) of one contestant of one section, after a warm-up. */
async function measure({ section, contestant, runs, TRIPS, BURST, MAP_ITEMS, N, split = false }) {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  const time = async (f) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const echo = new Worker('/bench/echo-worker.js');
  const echoOnce = () => new Promise((resolve) => ((echo.onmessage = resolve), echo.postMessage(0)));
  const echoBurst = (n) =>
    new Promise((resolve) => {
      let got = 0;
      echo.onmessage = () => ++got === n && resolve();
      for (let i = 0; i < n; i++) echo.postMessage(i);
    });
  if (contestant === 'rayon::spawn + oneshot') await (await import('/pkg/threads/web_executors.js')).initThreadPool(2);
  const pool =
    contestant === 'ThreadPoolExecutor (2 workers)' ? new wx.ThreadPoolExecutor({ maxWorkers: 2 })
    : contestant === 'ProcessPoolExecutor (2 workers)' ? new wx.ProcessPoolExecutor({ maxWorkers: 2 })
    : null;
  const one = {
    'raw postMessage echo Worker': echoOnce,
    'rayon::spawn + oneshot': () => wx.rayonSpawnNoop(),
  }[contestant] ?? (() => pool.submit('noop'));
  const many = {
    'raw postMessage echo Worker': echoBurst,
    'rayon::spawn + oneshot': (n) => Promise.all(Array.from({ length: n }, () => wx.rayonSpawnNoop())),
  }[contestant] ?? ((n) => wx.gather(Array.from({ length: n }, () => pool.submit('noop'))));
  // Warm: every worker started and has run a job.
  await many(4);
  const samples = [];
  for (let run = 0; run < runs; run++) {
    wx.clearRecords();
    if (section === 'roundTrip') {
      const trips = [];
      for (let i = 0; i < TRIPS; i++) trips.push(await time(one));
      samples.push(trips.sort((a, b) => a - b)[Math.floor(trips.length / 2)]);
    } else if (section === 'burst') {
      samples.push(await time(() => many(BURST)));
    } else if (section === 'map') {
      // executor.map with the pool's own chunk size: items in, results out, in order.
      const items = Array.from({ length: MAP_ITEMS }, () => 1);
      samples.push(await time(async () => {
        const results = await pool.map('sum_sqrt', items);
        if (results.length !== MAP_ITEMS) throw new Error(`map gave ${results.length} results`);
      }));
    } else if (section === 'cpu') {
      samples.push(await time(() => (split ? wx.gather([pool.submit('sum_sqrt_range', 0, N / 2), pool.submit('sum_sqrt_range', N / 2, N)]) : pool.submit('sum_sqrt', N))));
    }
  }
  await pool?.shutdown();
  echo.terminate();
  return samples;
}

/** In a blank page, cold: until a pool of 2 has run a job on each worker, beside
 * wasm-bindgen-rayon's initThreadPool(2) alone on the same build. */
async function startup(contestant) {
  const t0 = performance.now();
  if (contestant === 'initThreadPool(2)') {
    const glue = await import('/pkg/threads/web_executors.js');
    await glue.default();
    await glue.initThreadPool(2);
  } else {
    const { load } = await import('/www/showcase/showcase.js');
    const wx = await load({ workers: 2 });
    const pool = new wx.ThreadPoolExecutor({ maxWorkers: 2 });
    await wx.gather([pool.submit('noop'), pool.submit('noop')]);
  }
  return performance.now() - t0;
}

/** In the demo page: a free-form run of `jobs` jobs of 1 ms on 2 threads, started with
 * the Run button as a visitor starts it. The page's own frame timer (a
 * requestAnimationFrame loop, apart from the widget) gives the longest gap between
 * frames from the click to a frame after the run; where the browser reports long
 * animation frames (Chromium), the longest one's duration comes beside it. */
async function liveRun({ jobs }) {
  await customElements.whenDefined('executor-timeline');
  const demo = document.querySelector('#demo');
  const $ = (s) => demo.shadowRoot?.querySelector(s);
  const until = async (ok, what, ms = 60_000) => {
    for (const end = performance.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 50))) {
      if (performance.now() > end) throw new Error(`no ${what} within ${ms / 1000} s: ${$('.status')?.textContent}`);
    }
  };
  await until(() => $('button.run') && !$('button.run').disabled && /at most/.test($('.status').textContent), 'ready widget');
  await new Promise((r) => setTimeout(r, 500));
  let longAnimationFrame = null;
  const observer = PerformanceObserver.supportedEntryTypes?.includes('long-animation-frame')
    ? new PerformanceObserver((list) => list.getEntries().forEach((e) => (longAnimationFrame = Math.max(longAnimationFrame ?? 0, e.duration))))
    : null;
  longAnimationFrame = observer ? 0 : null;
  let longest = 0;
  let last = performance.now();
  let going = true;
  const tick = (now) => {
    longest = Math.max(longest, now - last);
    last = now;
    if (going) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  // The floor: the same page, idle, for 3 s (what the engine and machine give any page).
  await new Promise((r) => setTimeout(r, 3000));
  const idle = longest;
  longest = 0;
  const t0 = performance.now();
  observer?.observe({ type: 'long-animation-frame' });
  $('button.run').click();
  await until(() => /^Done/.test($('.status').textContent), 'end of the run', 600_000);
  const ms = performance.now() - t0;
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  going = false;
  observer?.disconnect();
  const done = $('.status').textContent;
  if (!done.startsWith(`Done: ${jobs.toLocaleString('en')} jobs`)) throw new Error(`the run ended with "${done}"`);
  return { frameGap: longest, idle, longAnimationFrame, ms };
}

// The references outside the browser first, while the machine is quiet.
const sizes = { BENCH_TRIPS: String(TRIPS), BENCH_BURST: String(BURST), BENCH_CPU_N: String(N), BENCH_ROUNDS: String(RUNS) };
const runJson = (command, args) => {
  console.error(`bench: ${command} ${args.join(' ')}`);
  return JSON.parse(execFileSync(command, args, { env: { ...process.env, ...sizes }, encoding: 'utf8' }).trim().split('\n').pop());
};
const loadBefore = loadAverage();
const native = runJson('cargo', ['bench', '--quiet', '--bench', 'native']);
const cpython = runJson('python3', ['bench/cpython.py']);

// Gzipped bytes: the threads build's wasm, and what one widget loads (as scripts/build.sh counts it).
const gz = async (path) => gzipSync(await readFile(new URL(`../${path}`, import.meta.url)), { level: 9 }).length;
const widgetFiles = [
  'pkg/plain/web_executors_bg.wasm',
  'pkg/plain/web_executors.js',
  'www/library/web-executors.js',
  'www/showcase/showcase.js',
  'www/showcase/executor-timeline.js',
  'www/showcase/executor-timeline.css',
];
const { readdirSync } = await import('node:fs');
const snippet = readdirSync(new URL('../pkg/plain/snippets/', import.meta.url))[0];
widgetFiles.push(`pkg/plain/snippets/${snippet}/www/library/workers.js`);
let widgetBytes = 0;
for (const file of widgetFiles) widgetBytes += await gz(file);
const size = { threadsWasm: await gz('pkg/threads/web_executors_bg.wasm'), plainWasm: await gz('pkg/plain/web_executors_bg.wasm'), widget: widgetBytes };

const site = await serveSite();
const chromium = ENGINES.includes('chromium') ? await launchChromium() : null;
/** Opens `path` of the site in `engine`: `{ evaluate, close }`. */
const open = async (engine, path) => {
  const url = `${site.url}/${path}`;
  if (engine === 'chromium') {
    const page = await openPage(chromium, url);
    page.on('console', (message) => message.text().startsWith('bench: ') && console.error(message.text()));
    return { evaluate: (f, arg) => page.evaluate(f, arg), close: () => page.close() };
  }
  return openWebDriverPage(engine, url);
};
const stalled = [];
/** `f(page)` in a fresh page of `engine`, with a time limit: a stall is reported, not waited on. */
const inFreshPage = async (engine, path, what, f) => {
  console.error(`bench: ${engine}, ${what}`);
  let page;
  let timer;
  try {
    page = await open(engine, path);
    const limit = new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`no result within ${SECTION_LIMIT_MS / 1000} s`)), SECTION_LIMIT_MS)));
    return await Promise.race([f(page), limit]);
  } catch (error) {
    stalled.push(`${engine}, ${what}: ${String(error.message).split('\n')[0].slice(0, 160)}`);
    return null;
  } finally {
    // Or the last section's timer would keep the run from ending for minutes.
    clearTimeout(timer);
    await page?.close().catch(() => {});
  }
};

const contestants = ['raw postMessage echo Worker', 'rayon::spawn + oneshot', 'ThreadPoolExecutor (2 workers)', 'ProcessPoolExecutor (2 workers)'];
const starts = ['initThreadPool(2)', 'load() and a ThreadPoolExecutor of 2'];
const figures = {};
const put = (engine, group, name, xs) => {
  if (!xs?.length) return;
  ((figures[engine] ??= {})[group] ??= {})[name] = xs;
};
try {
  for (const engine of ENGINES) {
    for (const section of ['roundTrip', 'burst']) {
      // rayon's contestant needs Chromium's Atomics.waitAsync.
      for (const contestant of contestants.filter((c) => engine === 'chromium' || !c.startsWith('rayon'))) {
        const xs = await inFreshPage(engine, 'bench/blank.html', `${section}, ${contestant}`, (page) =>
          page.evaluate(measure, { section, contestant, runs: RUNS, TRIPS, BURST, MAP_ITEMS, N }),
        );
        put(engine, section, contestant, xs);
      }
    }
    for (const contestant of ['ThreadPoolExecutor (2 workers)', 'ProcessPoolExecutor (2 workers)']) {
      const xs = await inFreshPage(engine, 'bench/blank.html', `map, ${contestant}`, (page) => page.evaluate(measure, { section: 'map', contestant, runs: RUNS, TRIPS, BURST, MAP_ITEMS, N }));
      put(engine, 'map', contestant, xs);
    }
    for (const [name, split] of [['ThreadPoolExecutor (2 workers), one job', false], ['ThreadPoolExecutor (2 workers), two jobs of half', true]]) {
      const xs = await inFreshPage(engine, 'bench/blank.html', `CPU loop, ${name}`, (page) =>
        page.evaluate(measure, { section: 'cpu', contestant: 'ThreadPoolExecutor (2 workers)', split, runs: RUNS, TRIPS, BURST, MAP_ITEMS, N }),
      );
      put(engine, 'cpu', name, xs);
    }
    const live = [];
    for (let run = 0; run < RUNS; run++) {
      const path = `index.html?scenario=free-form&executor=threads&workers=2&jobs=${LIVE_JOBS}&block-ms=1&cpu-jobs=0&gets=0`;
      const r = await inFreshPage(engine, path, `live ${LIVE_JOBS.toLocaleString('en')}-job run ${run + 1}`, (page) => page.evaluate(liveRun, { jobs: LIVE_JOBS }));
      if (r) live.push(r);
    }
    put(engine, 'live', 'longest frame gap (page frame timer)', live.map((r) => r.frameGap));
    put(engine, 'live', 'the same page idle for 3 s before the run: its longest frame gap', live.map((r) => r.idle));
    if (live.some((r) => r.longAnimationFrame !== null)) put(engine, 'live', 'longest animation frame (the browser\'s report)', live.map((r) => r.longAnimationFrame));
    if (engine === 'chromium') {
      for (let run = 0; run < RUNS; run++) {
        for (const contestant of starts) {
          const ms = await inFreshPage(engine, 'bench/blank.html', `start-up, ${contestant}`, (page) => page.evaluate(startup, contestant));
          if (ms !== null) ((figures.chromium.startup ??= {})[contestant] ??= []).push(ms);
        }
      }
      for (const kind of ['ThreadPoolExecutor', 'ProcessPoolExecutor']) {
        const l = await inFreshPage(engine, 'index.html', `100,000 jobs queued at once, ${kind}`, (page) => page.evaluate(queueAtOnce, { kind, jobs: 100_000 }));
        if (l) (figures.chromium.queued ??= {})[kind] = l;
      }
    }
  }
} finally {
  await chromium?.close();
  site.close();
}
const loadAfter = loadAverage();

// The report.
const lines = [];
const print = (line = '') => lines.push(line);
const table = (head, rows) => {
  print(`| ${head.join(' | ')} |`);
  print(`|---|${head.slice(1).map(() => '---:').join('|')}|`);
  rows.forEach((row) => print(`| ${row.join(' | ')} |`));
  print();
};
const noisy = [];
const stat = (engine, group, name) => figures[engine]?.[group]?.[name];
const med = (engine, group, name) => (stat(engine, group, name) ? median(stat(engine, group, name)) : NaN);
const date = new Date().toISOString();
print(`web-executors benchmark, run of ${date.slice(0, 16).replace('T', ' ')} UTC: ${os.cpus().length} cores, ${ENGINES.join(', ')}, CPython ${cpython.python}`);
print(`machine load (1, 5, 15 min) before: ${loadBefore}; after: ${loadAfter}. Each figure: median of ${RUNS} runs, spread = max - min; "noisy" when the spread is over ${NOISY * 100}% of the median.`);
print();
const units = { roundTrip: 'µs', burst: 'ms', map: 'ms', cpu: 'ms', live: 'ms', startup: 'ms' };
const titles = {
  roundTrip: `Round trip of a no-op job, submitted and awaited (each run: the median of ${TRIPS})`,
  burst: `Burst: ${BURST.toLocaleString('en')} no-op jobs submitted at once, all awaited`,
  map: `executor.map over ${MAP_ITEMS.toLocaleString('en')} items (sum_sqrt(1)), the pool's own chunk size`,
  cpu: `CPU loop: sum of sqrt(i) for i < ${N.toLocaleString('en')}`,
  live: `A live ${LIVE_JOBS.toLocaleString('en')}-job run on the demo page (free-form, 2 threads, 1 ms jobs), started with Run`,
  startup: 'Start-up on a blank page, cold',
};
for (const engine of ENGINES) {
  print(`## ${engine}`);
  print();
  for (const [group, title] of Object.entries(titles)) {
    const entries = Object.entries(figures[engine]?.[group] ?? {});
    if (!entries.length) continue;
    print(title);
    const scale = group === 'roundTrip' ? 1000 : 1;
    table(['measurement', `median ${units[group]}`, `spread ${units[group]}`, 'runs', 'trust'], entries.map(([name, xs]) => {
      const wide = spread(xs) > NOISY * median(xs);
      if (wide) noisy.push(`${engine}: ${name} (${group})`);
      return [name, (median(xs) * scale).toFixed(group === 'live' || group === 'roundTrip' ? 0 : 1), (spread(xs) * scale).toFixed(1), xs.length, wide ? 'noisy' : 'ok'];
    }));
  }
}
print('References outside the browser');
table(['measurement', 'ms'], [
  ['CPython run_in_executor, ThreadPoolExecutor(2): round trip', cpython.threads.roundTripMs.toFixed(3)],
  [`CPython run_in_executor, ThreadPoolExecutor(2): burst of ${BURST.toLocaleString('en')}`, cpython.threads.burstMs.toFixed(0)],
  [`CPython run_in_executor, ProcessPoolExecutor(2): burst of ${BURST.toLocaleString('en')}`, cpython.processes.burstMs.toFixed(0)],
  ['CPython CPU loop, one thread', cpython.cpuLoopMs.toFixed(0)],
  ['native Rust, this ThreadPoolExecutor on OS threads: round trip', native.threads.roundTripMs.toFixed(3)],
  [`native Rust, this ThreadPoolExecutor on OS threads: burst of ${BURST.toLocaleString('en')}`, native.threads.burstMs.toFixed(0)],
  ['native Rust CPU loop, one thread', native.cpuLoopMs.toFixed(0)],
]);
const queued = figures.chromium?.queued;
if (queued) {
  print('Chromium: 100,000 no-op jobs queued at once (2 workers), all awaited');
  table(['executor', 'ms', 'settled', 'heap bytes per queued job'], Object.entries(queued).map(([name, l]) => [name, l.ms.toFixed(0), l.fulfilled.toLocaleString('en'), l.bytesPerJob.toFixed(0)]));
}
print(`Size, gzipped: threads wasm ${size.threadsWasm.toLocaleString('en')} B; plain wasm ${size.plainWasm.toLocaleString('en')} B; one widget's payload ${size.widget.toLocaleString('en')} B`);
print();

// Issue 18's goals, per engine, from this run.
const T = 'ThreadPoolExecutor (2 workers)';
const P = 'ProcessPoolExecutor (2 workers)';
const E = 'raw postMessage echo Worker';
const goals = [
  ['thread round trip / postMessage echo', (e) => med(e, 'roundTrip', T) / med(e, 'roundTrip', E), '≤', 0.8],
  ['thread burst, a Promise per job / postMessage burst', (e) => med(e, 'burst', E) / med(e, 'burst', T), '≥', 2.5],
  [`map of ${MAP_ITEMS.toLocaleString('en')} items (the pool's chunk size) / postMessage burst`, (e) => (med(e, 'burst', E) * (MAP_ITEMS / BURST)) / med(e, 'map', T), '≥', 10],
  ['thread burst / CPython ThreadPoolExecutor burst', (e) => cpython.threads.burstMs / med(e, 'burst', T), '≥', 15],
  ['process burst / postMessage burst', (e) => med(e, 'burst', E) / med(e, 'burst', P), '≥', 1.0],
  ['load() + a ThreadPoolExecutor of 2 ready / initThreadPool(2)', (e) => med(e, 'startup', starts[1]) / med(e, 'startup', starts[0]), '≤', 0.6],
  ['threads build\'s wasm, gzipped KB', () => size.threadsWasm / 1000, '≤', 200],
  ['one widget\'s payload, gzipped KB', () => size.widget / 1000, '≤', 120],
  [`longest frame gap during a live ${LIVE_JOBS.toLocaleString('en')}-job run, ms`, (e) => med(e, 'live', 'longest frame gap (page frame timer)'), '≤', 50],
];
const results = [];
for (const [name, value, op, bound] of goals) {
  const row = { name, goal: `${op} ${bound}`, engines: {} };
  for (const engine of ENGINES) {
    const v = value(engine);
    row.engines[engine] = { value: Number.isFinite(v) ? v : null, met: Number.isFinite(v) ? (op === '≤' ? v <= bound : v >= bound) : null };
  }
  results.push(row);
}
print('Goals (issue 18), from this run');
table(['goal', 'target', ...ENGINES], results.map((r) => [r.name, r.goal, ...ENGINES.map((e) => {
  const { value, met } = r.engines[e];
  return value === null ? 'not measured' : `${value.toFixed(2)} ${met ? 'met' : 'NOT met'}`;
})]));
for (const line of noisy) print(`noisy: ${line}: runs spread wider than ${NOISY * 100}% of their median; do not quote it`);
for (const line of stalled) print(`STALLED: ${line}`);
console.log(lines.join('\n'));

const summary = (group) => Object.fromEntries(Object.entries(group ?? {}).map(([name, xs]) => [name, Array.isArray(xs) ? { median: median(xs), spread: spread(xs), runs: xs } : xs]));
await writeFile(
  new URL('./results.json', import.meta.url),
  JSON.stringify(
    {
      run: date,
      machine: { cores: os.cpus().length, loadBefore, loadAfter, python: cpython.python },
      engines: ENGINES,
      runsPerFigure: RUNS,
      figures: Object.fromEntries(Object.entries(figures).map(([engine, groups]) => [engine, Object.fromEntries(Object.entries(groups).map(([g, v]) => [g, summary(v)]))])),
      cpython,
      native,
      gzippedBytes: size,
      goals: results,
      noisy,
      stalled,
    },
    null,
    2,
  ) + '\n',
);
console.log('\nwritten to bench/results.json');
