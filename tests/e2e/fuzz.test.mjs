// A fuzz test of the JavaScript API with fast-check: random sequences of calls on both
// executors, with values of every JavaScript type in every position (numbers at the
// edges, strings of every size, objects, symbols, BigInt, proxies, functions,
// iterables, jobs). After each sequence: nothing trapped, every Promise a call returned
// settled (once: a Promise cannot settle twice, so each is counted), every error is one
// of the library's Python-named errors, the page answers a round trip within a second,
// and the pools still run jobs. A failure is shrunk to a minimal call sequence and
// printed with its seed.
//
//   npm test                      a fixed seed, a bounded number of runs (FUZZ_RUNS)
//   npm run fuzz                  a random seed, for FUZZ_MINUTES minutes (default 20)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { engines, openIn, serveSite } from './harness.mjs';

const minutes = Number(process.env.FUZZ_MINUTES ?? 0);
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : minutes ? Date.now() % 2 ** 31 : 20261205;
const runs = Number(process.env.FUZZ_RUNS ?? 60);

// Values, described as data (symbols, proxies and functions cannot cross to the page);
// the page makes each from its description.
const number = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 2 ** 31, 2 ** 31 / 1000, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e20, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN),
  fc.integer({ min: -5, max: 300 }),
  fc.double(),
);
const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    number.map((v) => ({ t: 'number', v: Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v })),
    fc.string({ maxLength: 20 }).map((v) => ({ t: 'string', v })),
    fc.constantFrom(0, 1, 1000, 2 ** 20, 2 ** 21, 2 ** 24).map((length) => ({ t: 'long string', length })),
    fc.constantFrom('undefined', 'null', 'true', 'false', 'symbol', 'bigint', 'huge bigint', 'object', 'proxy', 'throwing proxy', 'function', 'date', 'regexp', 'map', 'set of jobs', 'generator of jobs', 'fake job', 'cyclic').map((t) => ({ t })),
    fc.nat(20).map((i) => ({ t: 'job', i })),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => ({ t: 'array', items })),
    fc.dictionary(fc.constantFrom('maxWorkers', 'timeout', 'chunksize', 'returnWhen', 'wait', 'cancelFutures', 'jobTimeout', 'initializer', 'initargs', 'returnExceptions', 'x'), tie('value'), { maxKeys: 3 }).map((entries) => ({ t: 'object of', entries })),
  ),
})).value;
// Registered jobs whose length no argument can stretch (`blocks_for(n, ms)` and the CPU
// loops take their length from an argument; they run in 'submit short' only, briefly):
// a job's own length is not what is fuzzed.
const name = fc.oneof(fc.constantFrom('noop', 'blocks', 'http_get', 'set_worker_value', 'worker_value', 'nope').map((v) => ({ t: 'string', v })), value);
const shortJob = fc.tuple(fc.nat(9), fc.nat(40)).map(([n, ms]) => ({ t: 'short job', n, ms }));
const call = fc.oneof(
  fc.record({ op: fc.constant('submit'), pool: fc.nat(1), name, args: fc.array(value, { maxLength: 3 }) }),
  fc.record({ op: fc.constant('submit short'), pool: fc.nat(1), job: shortJob }),
  fc.record({ op: fc.constant('map'), pool: fc.nat(1), name, items: value, options: value }),
  fc.record({ op: fc.constantFrom('wait', 'asCompleted', 'gather'), jobs: value, options: value }),
  fc.record({ op: fc.constantFrom('toThread'), name, args: fc.array(value, { maxLength: 2 }) }),
  fc.record({ op: fc.constantFrom('cancel', 'result', 'exception', 'addDoneCallback', 'record'), job: fc.nat(20), options: value }),
  fc.record({ op: fc.constant('new pool'), pool: fc.nat(1), options: value }),
  fc.record({ op: fc.constant('shutdown'), pool: fc.nat(1), options: value }),
  fc.record({ op: fc.constantFrom('planRun', 'scenarioSource'), name, options: value }),
  fc.record({ op: fc.constant('killWorker'), pool: fc.nat(1), pid: value }),
  fc.record({ op: fc.constant('clearRecords') }),
);

/**
 * In the page: runs `calls` on pools of `kind` (two of them, remade when shut down),
 * then shuts every pool down (cancelling what is queued) and waits for the Promises
 * the calls returned. Returns what went wrong, if anything.
 */
async function runCalls({ kind, calls }) {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  const problems = [];
  const pending = new Set();
  const jobs = [];
  const pools = [];
  const allPools = [];
  const named = new Set(['TypeError', 'ValueError', 'RuntimeError', 'TimeoutError', 'CancelledError', 'JobError', 'BrokenThreadPool', 'BrokenProcessPool', 'Error']);
  const judge = (where, error) => {
    if (error instanceof WebAssembly.RuntimeError) problems.push(`${where}: a trap: ${error.message}`);
    else if (!(error instanceof Error)) problems.push(`${where}: threw a non-Error: ${String(error)}`);
    else if (!named.has(error.name)) problems.push(`${where}: an unexpected ${error.name}: ${error.message}`);
  };
  const track = (where, result) => {
    if (!result || typeof result.then !== 'function') return;
    let settled = 0;
    const entry = { where };
    pending.add(entry);
    Promise.resolve(result).then(
      () => (settled++, pending.delete(entry)),
      (error) => (settled++, pending.delete(entry), judge(where, error)),
    ).then(() => settled > 1 && problems.push(`${where}: settled ${settled} times`));
  };
  const poolOf = (k) => {
    if (!pools[k]) {
      pools[k] = new wx[kind]({ maxWorkers: 2 });
      allPools.push(pools[k]);
    }
    return pools[k];
  };
  const make = (spec) => {
    switch (spec.t) {
      case 'number':
        return typeof spec.v === 'string' ? Number(spec.v) : spec.v;
      case 'string':
        return spec.v;
      case 'long string':
        return 'x'.repeat(spec.length);
      case 'undefined':
        return undefined;
      case 'null':
        return null;
      case 'true':
        return true;
      case 'false':
        return false;
      case 'symbol':
        return Symbol('fuzz');
      case 'bigint':
        return 7n;
      case 'huge bigint':
        return 2n ** 200n;
      case 'object':
        return { a: 1 };
      case 'proxy':
        return new Proxy({}, {});
      case 'throwing proxy':
        return new Proxy({}, { get() { throw new Error('a proxy trap'); }, ownKeys() { throw new Error('a proxy trap'); } });
      case 'function':
        return () => 1;
      case 'date':
        return new Date(0);
      case 'regexp':
        return /x/;
      case 'map':
        return new Map([[1, 2]]);
      case 'set of jobs':
        return new Set(jobs.slice(0, 3));
      case 'generator of jobs':
        return (function* () { yield* jobs.slice(-2); })();
      case 'fake job':
        return { id: -5 };
      case 'cyclic': {
        const o = {};
        o.o = o;
        return o;
      }
      case 'job':
        return jobs.length ? jobs[spec.i % jobs.length] : undefined;
      case 'array':
        return spec.items.map(make);
      case 'object of':
        return Object.fromEntries(Object.entries(spec.entries).map(([k, v]) => [k, make(v)]));
      default:
        throw new Error(`no such value: ${spec.t}`);
    }
  };
  /** A job a call returned, kept for later calls to use. */
  const keep = (job) => (jobs.push(job), job);
  for (const [i, c] of calls.entries()) {
    const where = `call ${i} (${c.op})`;
    try {
      let result;
      switch (c.op) {
        case 'submit':
          result = keep(poolOf(c.pool).submit(make(c.name), ...c.args.map(make)));
          break;
        case 'submit short':
          result = keep(poolOf(c.pool).submit('blocks_for', c.job.n, c.job.ms));
          break;
        case 'map': {
          const mapped = poolOf(c.pool).map(make(c.name), make(c.items), make(c.options));
          result = Promise.resolve(mapped);
          break;
        }
        case 'wait':
          result = wx.wait(make(c.jobs), make(c.options));
          break;
        case 'asCompleted':
          result = Promise.resolve(wx.asCompleted(make(c.jobs), make(c.options)));
          break;
        case 'gather':
          result = wx.gather(make(c.jobs), make(c.options));
          break;
        case 'toThread':
          result = keep(wx.toThread(make(c.name), ...c.args.map(make)));
          break;
        case 'cancel':
        case 'result':
        case 'exception':
        case 'addDoneCallback':
        case 'record': {
          const job = jobs[c.job % Math.max(1, jobs.length)];
          if (!job) break;
          if (c.op === 'cancel') job.cancel();
          else if (c.op === 'record') job.record();
          else if (c.op === 'addDoneCallback') job.addDoneCallback(make(c.options));
          else result = job[c.op](make(c.options));
          break;
        }
        case 'new pool':
          pools[c.pool] = new wx[kind](make(c.options));
          allPools.push(pools[c.pool]);
          break;
        case 'shutdown':
          result = poolOf(c.pool).shutdown(make(c.options));
          pools[c.pool] = null;
          break;
        case 'planRun':
          wx.planRun(make(c.name), make(c.options));
          break;
        case 'scenarioSource':
          wx.scenarioSource(make(c.name));
          break;
        case 'killWorker':
          poolOf(c.pool).killWorker(make(c.pid));
          break;
        case 'clearRecords':
          wx.clearRecords();
          break;
      }
      track(where, result);
    } catch (error) {
      judge(where, error);
    }
  }
  // Every pool down, its queue cancelled; then every Promise must settle.
  for (const pool of allPools) track('shutdown at the end', pool.shutdown({ wait: false, cancelFutures: true }));
  for (let t = 0; pending.size && t < 100; t++) await new Promise((r) => setTimeout(r, 50));
  for (const { where } of pending) problems.push(`${where}: its Promise never settled`);
  // The pools still work.
  const fresh = new wx[kind]({ maxWorkers: 1 });
  const check = await Promise.race([fresh.submit('blocks', 3), new Promise((r) => setTimeout(() => r('no answer in 10 s'), 10_000))]);
  if (check !== 9) problems.push(`a new pool afterwards gave ${check}`);
  fresh.shutdown({ wait: false });
  return problems;
}

for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
  for (const kind of ['ThreadPoolExecutor', 'ProcessPoolExecutor']) {
    describe(`${browser}, ${kind}: fuzzing the JavaScript API`, () => {
      let site;
      let opened;

      const open = async () => {
        await opened?.close();
        opened = await openIn(browser, `${site.url}/tests/e2e/blank-widget.html`);
      };

      before(async () => {
        site = await serveSite({ isolated: kind === 'ThreadPoolExecutor' });
        await open();
      });
      after(async () => {
        await opened?.close();
        site?.close();
      });

      test(`random call sequences never trap, hang or lose a Promise (seed ${seed})`, async () => {
        let calls = 0;
        let sequences = 0;
        const property = fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 12 }), async (sequence) => {
          sequences++;
          calls += sequence.length;
          let problems;
          try {
            problems = await opened.page.evaluate(runCalls, { kind, calls: sequence });
            const t0 = Date.now();
            await opened.page.evaluate(() => 1);
            if (Date.now() - t0 > 1000) problems.push(`the page took ${Date.now() - t0} ms to answer a round trip`);
          } catch (error) {
            problems = [`the page failed: ${error.message.slice(0, 300)}`];
          }
          if (problems.length) {
            // What went wrong, short: shrinking prints only the sequences.
            console.log(`${browser}, ${kind}: ${JSON.stringify(problems).slice(0, 1000)}`);
            await open(); // a clean page for the next sequence
          }
          assert.deepEqual(problems, []);
        });
        const options = minutes ? { seed, numRuns: 1e9, interruptAfterTimeLimit: minutes * 60_000 / 6, markInterruptAsFailure: false } : { seed, numRuns: runs };
        await fc.assert(property, { ...options, endOnFailure: false, verbose: 1 });
        console.log(`${browser}, ${kind}: ${sequences} sequences, ${calls} calls, seed ${seed}`);
      });
    });
  }
}
