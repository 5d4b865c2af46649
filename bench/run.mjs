// `npm run bench`: measures web-executors in headless Chromium on the served site and
// prints a table; the figures are also written to bench/results.json.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import { launchChromium, openFirefoxPage, openPage, queueAtOnce, serveSite, widgetsDone } from '../tests/e2e/harness.mjs';

const N = 50_000_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TRIPS = Number(process.env.BENCH_TRIPS ?? 300);
const BURST = Number(process.env.BENCH_BURST ?? 100_000);
// How long every worker runs the CPU loop while the page's frames are timed.
const SATURATE_MS = 2000;

const SECTION_LIMIT_MS = 180_000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => Math.max(...xs) - Math.min(...xs);

// Runs in a fresh blank page: from a cold start to a pool of 2 that has run a job on
// each worker, beside wasm-bindgen-rayon's initThreadPool(2) alone on the same build.
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
  return { startup: { [contestant]: [performance.now() - t0] } };
}

// Runs in the page.
async function measure({ section, contestant, N, ROUNDS, TRIPS, BURST, SATURATE_MS, withRayon = true }) {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  // rayon's own pool (the floor `rayon::spawn` and the `par_sum_sqrt` row): the library
  // does not start it, so this page does, on the build `load()` chose.
  if (wx.threadsAvailable) await (await import('/pkg/threads/web_executors.js')).initThreadPool(2);
  const time = async (f) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const repeat = async (n, f) => {
    const xs = [];
    for (let i = 0; i < n; i++) xs.push(await time(f));
    return xs;
  };
  const echo = new Worker('/bench/echo-worker.js');
  const echoOnce = () => new Promise((resolve) => ((echo.onmessage = resolve), echo.postMessage(0)));
  const echoBurst = (n) =>
    new Promise((resolve) => {
      let got = 0;
      echo.onmessage = () => ++got === n && resolve();
      for (let i = 0; i < n; i++) echo.postMessage(i);
    });
  const burst = (pool, n) => wx.gather(Array.from({ length: n }, () => pool.submit('noop')));
  const progress = (what) => console.log(`bench: ${what}`);

  if (section === 'burst') {
    // Each contestant alone in its page, warm before timing.
    const pool = {
      'ThreadPoolExecutor (2 workers)': () => new wx.ThreadPoolExecutor({ maxWorkers: 2 }),
      'ProcessPoolExecutor (2 workers)': () => new wx.ProcessPoolExecutor({ maxWorkers: 2 }),
    }[contestant]?.();
    const rayon = contestant === 'rayon::spawn + oneshot';
    const rayonBurst = (n) => Promise.all(Array.from({ length: n }, () => wx.rayonSpawnNoop()));
    const run = pool ? () => burst(pool, BURST) : rayon ? () => rayonBurst(BURST) : () => echoBurst(BURST);
    await (pool ? burst(pool, 2) : rayon ? rayonBurst(2) : echoOnce());
    progress(`burst, ${contestant}`);
    const runs = [];
    for (let i = 0; i < Math.min(ROUNDS, 3); i++) {
      wx.clearRecords();
      runs.push(await time(run));
    }
    await pool?.shutdown();
    return { burst: { [contestant]: runs } };
  }
  if (section === 'frames') {
    // The longest gap between animation frames while every worker runs the CPU loop
    // for about SATURATE_MS, beside the same loop run on the main thread.
    progress('frame gaps');
    const longestGap = async (work) => {
      let last = performance.now();
      let longest = 0;
      let running = true;
      const tick = (now) => {
        longest = Math.max(longest, now - last);
        last = now;
        if (running) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      await new Promise((r) => setTimeout(r, 100));
      longest = 0;
      await work();
      await new Promise((r) => setTimeout(r, 100));
      running = false;
      return longest;
    };
    const cores = navigator.hardwareConcurrency || 2;
    const pool = new wx.ThreadPoolExecutor({ maxWorkers: cores });
    await wx.gather(Array.from({ length: cores }, () => pool.submit('noop')));
    const t0 = performance.now();
    await pool.submit('sum_sqrt', N);
    const perJob = Math.max(1, Math.round((N * SATURATE_MS) / (performance.now() - t0)));
    const workers = await longestGap(() => wx.gather(Array.from({ length: cores }, () => pool.submit('sum_sqrt', perJob))));
    const mainThread = await longestGap(async () => {
      const end = performance.now() + SATURATE_MS;
      let sum = 0;
      for (let i = 0; performance.now() < end; i++) for (let j = 0; j < 100_000; j++) sum += Math.sqrt(j);
      return sum;
    });
    await pool.shutdown();
    return { frames: { [`every worker busy (${cores})`]: [workers], 'the same loop on the main thread': [mainThread] } };
  }
  // Workers are started (and warm) before timing: the executors are what is measured.
  const threads = new wx.ThreadPoolExecutor({ maxWorkers: 2 });
  const processes = new wx.ProcessPoolExecutor({ maxWorkers: 2 });
  const one = new wx.ThreadPoolExecutor({ maxWorkers: 1 });
  await Promise.all([echoOnce(), burst(threads, 2), burst(processes, 2), one.submit('noop'), wx.toThread('noop')]);

  const figures = { roundTrip: {}, burst: {}, 
cpu: { 'CPU loop, 1 worker (one job)': [], 'CPU loop, 2 workers (two jobs of half)': [], 'CPU loop, rayon on the default pool of 2': [] } };
  if (section === 'roundTrip') for (const [name, run] of [
    ['raw postMessage echo Worker', echoOnce],
    ...(withRayon ? [['rayon::spawn + oneshot', wx.rayonSpawnNoop]] : []),
    ['ThreadPoolExecutor (2 workers)', () => threads.submit('noop')],
    ['ProcessPoolExecutor (2 workers)', () => processes.submit('noop')],
  ]) {
    progress(`round trip, ${name}`);
    figures.roundTrip[name] = await repeat(TRIPS, run);
  }
  wx.clearRecords();
  if (section === 'cpu') progress('CPU loop');
  for (let i = 0; section === 'cpu' && i < ROUNDS; i++) {
    figures.cpu['CPU loop, 1 worker (one job)'].push(await time(() => one.submit('sum_sqrt', N)));
    figures.cpu['CPU loop, 2 workers (two jobs of half)'].push(
      await time(() => wx.gather([threads.submit('sum_sqrt_range', 0, N / 2), threads.submit('sum_sqrt_range', N / 2, N)])),
    );
    figures.cpu['CPU loop, rayon on the default pool of 2'].push(await time(() => wx.toThread('par_sum_sqrt', N)));
  }
  await Promise.all([threads.shutdown(), processes.shutdown(), one.shutdown()]);
  echo.terminate();
  return figures;
}

// The references that run outside the browser, first, while the machine is quiet.
const sizes = { BENCH_TRIPS: String(TRIPS), BENCH_BURST: String(BURST), BENCH_CPU_N: String(N), BENCH_ROUNDS: String(ROUNDS) };
const runJson = (command, args) => {
  console.error(`bench: ${command} ${args.join(' ')}`);
  return JSON.parse(execFileSync(command, args, { env: { ...process.env, ...sizes }, encoding: 'utf8' }).trim().split('\n').pop());
};
const native = runJson('cargo', ['bench', '--quiet', '--bench', 'native']);
const cpython = runJson('python3', ['bench/cpython.py']);

// Gzipped bytes of what each build loads: its wasm and its JS (glue plus www/).
const gz = async (path) => gzipSync(await readFile(new URL(`../${path}`, import.meta.url))).length;
const sharedJs = (await gz('www/library/web-executors.js')) + (await gz('www/library/workers.js')) + (await gz('www/showcase/showcase.js'));
const size = {};
for (const build of ['threads', 'plain']) {
  size[build] = { wasm: await gz(`pkg/${build}/web_executors_bg.wasm`), js: (await gz(`pkg/${build}/web_executors.js`)) + sharedJs };
}

const site = await serveSite();
const browser = await launchChromium();
try {
  // Each section in a page of its own, so that none inherits another's state, and
  // with a time limit, so that a stall is reported rather than waited on forever.
  const figures = { roundTrip: {}, burst: {}, cpu: {}, frames: {}, startup: {}, timeline: {}, load: {} };
  const stalled = [];
  const contestants = ['raw postMessage echo Worker', 'rayon::spawn + oneshot', 'ThreadPoolExecutor (2 workers)', 'ProcessPoolExecutor (2 workers)'];
  const starts = ['initThreadPool(2)', 'load() and a ThreadPoolExecutor of 2'];
  const runs = [
    ['roundTrip'],
    ...contestants.map((c) => ['burst', c]),
    ['cpu'],
    ['frames'],
    ...[0, 1, 2].flatMap(() => starts.map((c) => ['startup', c])),
  ];
  for (const [section, contestant] of runs) {
    const page = await openPage(browser, `${site.url}/${section === 'startup' ? 'bench/blank.html' : 'index.html'}`);
    page.on('console', (message) => message.text().startsWith('bench: ') && console.error(message.text()));
    const limit = new Promise((resolve) => setTimeout(resolve, SECTION_LIMIT_MS, null));
    const work = section === 'startup' ? page.evaluate(startup, contestant) : page.evaluate(measure, { section, contestant, N, ROUNDS, TRIPS, BURST, SATURATE_MS });
    const measured = await Promise.race([work, limit]);
    for (const [name, xs] of Object.entries(measured?.[section] ?? {})) (figures[section][name] ??= []).push(...xs);
    if (!measured) stalled.push(contestant ? `${section}, ${contestant}` : section);
    await page.close();
  }
  // The demo page's timeline: one frame of 10,000 bars, drawn again and again after a
  // run of 10,000 tiny jobs (the layout as it stands; drawing is what a zoom or a pan
  // costs), and the longest frame gap while those bars were drawn live.
  console.error('bench: timeline of 10,000 bars');
  // Larger than a link starts by itself: the bench presses Run.
  const timeline = await openPage(browser, `${site.url}/index.html?scenario=free-form&executor=threads&workers=2&jobs=10000&block-ms=1&cpu-jobs=0&gets=0`);
  try {
    await timeline.evaluate(async () => {
      await customElements.whenDefined('executor-timeline');
      document.querySelector('#demo').run();
    });
    await widgetsDone(timeline, SECTION_LIMIT_MS);
    Object.assign(figures.timeline, await timeline.evaluate(() => {
      const demo = document.querySelector('#demo');
      const draws = Array.from({ length: 40 }, () => demo.drawOnce());
      return { 'draw one frame of 10,000 bars': draws, 'longest frame gap during the live run': [demo.longestFrameGap] };
    }));
  } catch (error) {
    stalled.push(`timeline (${error.message.slice(0, 80)})`);
  } finally {
    await timeline.close();
  }
  // Load: 100,000 no-op jobs queued at once on each executor, all awaited; what each
  // queued job costs in wasm heap, read between the last submit and the first await.
  for (const kind of ['ThreadPoolExecutor', 'ProcessPoolExecutor']) {
    console.error(`bench: 100,000 jobs queued at once, ${kind}`);
    const page = await openPage(browser, `${site.url}/index.html`);
    try {
      figures.load[kind] = await page.evaluate(queueAtOnce, { kind, jobs: 100_000 });
    } catch (error) {
      stalled.push(`load, ${kind} (${error.message.slice(0, 80)})`);
    } finally {
      await page.close();
    }
  }
  // Firefox, for the figures that depend on the engine: round trips, bursts and the CPU
  // loop. Not rayon's contestant: its bursts each hold an Atomics.waitAsync.
  const firefox = { roundTrip: {}, burst: {}, cpu: {} };
  for (const [section, contestant] of [['roundTrip'], ...contestants.filter((c) => !c.startsWith('rayon')).map((c) => ['burst', c]), ['cpu']]) {
    console.error(`bench: Firefox, ${section}${contestant ? `, ${contestant}` : ''}`);
    const page = await openFirefoxPage(`${site.url}/index.html`);
    try {
      const measured = await page.evaluate(measure, { section, contestant, N, ROUNDS, TRIPS, BURST, SATURATE_MS, withRayon: false });
      Object.assign(firefox[section], measured[section]);
    } catch (error) {
      stalled.push(`Firefox ${section}${contestant ? `, ${contestant}` : ''} (${error.message.slice(0, 80)})`);
    } finally {
      await page.close();
    }
  }
  const version = browser.version();
  const floor = 'raw postMessage echo Worker';
  const m = (group, name) => median(figures[group][name] ?? [NaN]);
  const lines = [];
  const print = (line = '') => lines.push(line);
  const table = (head, rows) => {
    print(`| ${head.join(' | ')} |`);
    print(`|---|${head.slice(1).map(() => '---:').join('|')}|`);
    rows.forEach((row) => print(`| ${row.join(' | ')} |`));
    print();
  };
  const us = (ms) => (ms * 1000).toFixed(0);
  const rate = (ms) => Math.round(BURST / (ms / 1000)).toLocaleString('en');
  print(`web-executors benchmark, ${new Date().toISOString().slice(0, 10)}: Chromium ${version}, ${os.cpus().length} cores, CPython ${cpython.python}`);
  print();
  print(`Round trip of a no-op job submitted and awaited on the main thread (median of ${TRIPS})`);
  table(['contestant', 'median µs', 'spread µs', '× postMessage'], [
    ...Object.entries(figures.roundTrip).map(([name, xs]) => [name, us(median(xs)), us(spread(xs)), (median(xs) / m('roundTrip', floor)).toFixed(2)]),
    ['CPython run_in_executor, ThreadPoolExecutor(2)', us(cpython.threads.roundTripMs), '', (cpython.threads.roundTripMs / m('roundTrip', floor)).toFixed(2)],
    ['CPython run_in_executor, ProcessPoolExecutor(2)', us(cpython.processes.roundTripMs), '', (cpython.processes.roundTripMs / m('roundTrip', floor)).toFixed(2)],
    ['native Rust, this ThreadPoolExecutor on OS threads', us(native.threads.roundTripMs), '', ''],
  ]);
  print(`Burst: ${BURST.toLocaleString('en')} no-op jobs submitted at once and all awaited`);
  table(['contestant', 'median ms', 'jobs/s', '× postMessage'], [
    ...Object.entries(figures.burst).map(([name, xs]) => [name, median(xs).toFixed(0), rate(median(xs)), (m('burst', floor) / median(xs)).toFixed(2)]),
    ['CPython run_in_executor, ThreadPoolExecutor(2)', cpython.threads.burstMs.toFixed(0), rate(cpython.threads.burstMs), (m('burst', floor) / cpython.threads.burstMs).toFixed(2)],
    ['CPython run_in_executor, ProcessPoolExecutor(2)', cpython.processes.burstMs.toFixed(0), rate(cpython.processes.burstMs), (m('burst', floor) / cpython.processes.burstMs).toFixed(2)],
    ['native Rust, this ThreadPoolExecutor on OS threads', native.threads.burstMs.toFixed(0), rate(native.threads.burstMs), ''],
  ]);
  print(`CPU loop: sum of sqrt(i) for i < ${N.toLocaleString('en')} (median of ${ROUNDS})`);
  const one = m('cpu', 'CPU loop, 1 worker (one job)');
  table(['measurement', 'median ms', 'spread ms', 'speed-up vs 1 worker'], [
    ...Object.entries(figures.cpu).map(([name, xs]) => [name, median(xs).toFixed(1), spread(xs).toFixed(1), `${(one / median(xs)).toFixed(2)}×`]),
    ['native Rust, one thread', native.cpuLoopMs.toFixed(1), '', `${(one / native.cpuLoopMs).toFixed(2)}×`],
    ['CPython, one thread', cpython.cpuLoopMs.toFixed(1), '', `${(one / cpython.cpuLoopMs).toFixed(2)}×`],
  ]);
  print(`Main-thread responsiveness: longest gap between animation frames while the CPU loop runs for about ${SATURATE_MS / 1000} s`);
  table(['where the loop runs', 'longest frame gap ms'], Object.entries(figures.frames).map(([name, xs]) => [name, median(xs).toFixed(1)]));
  print('The demo page\'s timeline after 10,000 jobs on 2 threads (draw: median of 40)');
  table(['measurement', 'median ms', 'spread ms'], Object.entries(figures.timeline).map(([name, xs]) => [name, median(xs).toFixed(2), spread(xs).toFixed(2)]));
  print('Load: 100,000 no-op jobs queued at once (2 workers), all awaited');
  table(['executor', 'ms', 'settled', 'heap bytes per queued job'], Object.entries(figures.load).map(([name, l]) => [name, l.ms.toFixed(0), l.fulfilled.toLocaleString('en'), l.bytesPerJob.toFixed(0)]));
  print('Start-up on a blank page, cold (median of 3)');
  table(['contestant', 'median ms'], Object.entries(figures.startup).map(([name, xs]) => [name, median(xs).toFixed(0)]));
  const ffFloor = median(firefox.roundTrip[floor] ?? [NaN]);
  const ffBurstFloor = median(firefox.burst[floor] ?? [NaN]);
  print(`Firefox, the same sections (round trip median of ${TRIPS}; burst of ${BURST.toLocaleString('en')})`);
  table(['contestant', 'round trip µs', '× postMessage', 'burst jobs/s', '× postMessage'], contestants.filter((c) => !c.startsWith('rayon')).map((name) => {
    const trip = median(firefox.roundTrip[name] ?? [NaN]);
    const burst = median(firefox.burst[name] ?? [NaN]);
    return [name, us(trip), (trip / ffFloor).toFixed(2), rate(burst), (ffBurstFloor / burst).toFixed(2)];
  }));
  table(['CPU loop', 'median ms', 'speed-up vs 1 worker'], Object.entries(firefox.cpu).map(([name, xs]) => [name, median(xs).toFixed(1), `${(median(firefox.cpu['CPU loop, 1 worker (one job)'] ?? [NaN]) / median(xs)).toFixed(2)}×`]));
  print('Size, gzipped (JS is the glue plus www/library/web-executors.js, www/library/workers.js and www/showcase/showcase.js)');
  table(['build', 'wasm KiB', 'JS KiB'], Object.entries(size).map(([build, b]) => [build, (b.wasm / 1024).toFixed(0), (b.js / 1024).toFixed(1)]));

  const threadsBurst = m('burst', 'ThreadPoolExecutor (2 workers)');
  const processBurst = m('burst', 'ProcessPoolExecutor (2 workers)');
  const targets = [
    ['thread round trip ≤ postMessage echo', m('roundTrip', 'ThreadPoolExecutor (2 workers)') / m('roundTrip', floor), '≤', 1],
    ['thread round trip ≤ ¼ CPython threads', m('roundTrip', 'ThreadPoolExecutor (2 workers)') / cpython.threads.roundTripMs, '≤', 0.25],
    ['thread burst ≥ 10× postMessage', m('burst', floor) / threadsBurst, '≥', 10],
    ['thread burst ≥ 50× CPython threads', cpython.threads.burstMs / threadsBurst, '≥', 50],
    ['process burst ≥ 0.8× postMessage', m('burst', floor) / processBurst, '≥', 0.8],
    ['process burst ≥ 10× CPython processes', cpython.processes.burstMs / processBurst, '≥', 10],
    ['CPU loop, 2 workers ≥ 1.85× 1 worker', one / m('cpu', 'CPU loop, 2 workers (two jobs of half)'), '≥', 1.85],
    ['CPU loop, 1 worker ≤ 1.15× native', one / native.cpuLoopMs, '≤', 1.15],
    ['longest frame gap ≤ 50 ms', median(Object.values(figures.frames)[0] ?? [NaN]), '≤', 50],
    ['pool of 2 ready ≤ initThreadPool(2)', m('startup', starts[1]) / m('startup', starts[0]), '≤', 1],
    ['timeline frame of 10,000 bars ≤ 8 ms', m('timeline', 'draw one frame of 10,000 bars'), '≤', 8],
  ].map(([name, value, op, bound]) => ({ name, value, bound, met: op === '≤' ? value <= bound : value >= bound }));
  print('Targets (issues 4 and 5), from this run');
  table(['target', 'this run', 'met'], targets.map((t) => [t.name, t.value.toFixed(2), t.met ? 'yes' : 'no']));
  for (const section of stalled) print(`${section}: STALLED (no result within ${SECTION_LIMIT_MS / 1000} s)`);
  console.log(lines.join('\n'));
  const summary = (group) =>
    Object.fromEntries(Object.entries(group).map(([name, xs]) => [name, { medianMs: median(xs), spreadMs: spread(xs), runs: xs.length }]));
  const results = {
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, browser: `Chromium ${version}`, python: cpython.python },
    roundTrip: summary(figures.roundTrip),
    burst: { jobs: BURST, ...summary(figures.burst) },
    cpuLoop: { n: N, ...summary(figures.cpu) },
    frameGapMs: summary(figures.frames),
    firefox: { roundTrip: summary(firefox.roundTrip), burst: summary(firefox.burst), cpuLoop: summary(firefox.cpu) },
    startup: summary(figures.startup),
    timeline: summary(figures.timeline),
    load: figures.load,
    cpython,
    native,
    gzippedBytes: size,
    targets,
    stalled,
  };
  await writeFile(new URL('./results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
  console.log('\nwritten to bench/results.json');
} finally {
  await browser.close();
  site.close();
}
