// The example's page: the library's loader given this example's own two builds
// (examples/own-jobs/build.sh), then its two jobs on each kind of pool, in a table.
import { load } from '../../www/library/web-executors.js';

/** The library, loaded with this crate's builds: its jobs are the ones registered. */
export const loaded = load({
  builds: {
    threads: new URL('./pkg/threads/own_jobs.js', import.meta.url),
    plain: new URL('./pkg/plain/own_jobs.js', import.meta.url),
  },
});

/** Runs both jobs on a pool of two workers; one row per job, once all are done. */
async function runOn(wx, Pool) {
  const pool = new Pool({ maxWorkers: 2 });
  const jobs = [
    // The nap goes first, so that it holds one worker while the other counts.
    pool.submit('nap', 300),
    ...[10, 1_000, 1_000_000, 10_000_000].map((n) => pool.submit('count_primes', n)),
  ];
  const settled = await Promise.allSettled(jobs);
  await pool.shutdown();
  // Each job's record says how long it ran on its worker.
  const records = new Map(wx.records().map((r) => [r.id, r]));
  return jobs.map((job, i) => {
    const { started, finished } = records.get(job.id) ?? {};
    return {
      executor: Pool.name,
      label: job.label,
      worker: job.worker ?? null,
      result: settled[i].value ?? null,
      error: settled[i].reason?.message ?? null,
      ms: started == null || finished == null ? null : Math.round(finished - started),
    };
  });
}

function show(rows) {
  const body = document.querySelector('#jobs tbody');
  for (const row of rows) {
    const tr = body.insertRow();
    if (row.error) tr.className = 'failed';
    const cells = [row.executor, row.label, row.error ?? JSON.stringify(row.result), row.worker ?? '', row.ms ?? ''];
    for (const text of cells) tr.insertCell().textContent = text;
    tr.cells[4].className = 'number';
  }
}

/** What the page ran and showed: `{ build, rows }` (the test reads it too). */
export const shown = (async () => {
  const status = document.querySelector('#status');
  try {
    const wx = await loaded;
    status.textContent = wx.threadsAvailable
      ? `Build: threads. Jobs: ${wx.jobNames().join(', ')}.`
      : `Build: plain (no ThreadPoolExecutor: ${wx.whyNoThreads}). Jobs: ${wx.jobNames().join(', ')}.`;
    const pools = wx.threadsAvailable ? [wx.ThreadPoolExecutor, wx.ProcessPoolExecutor] : [wx.ProcessPoolExecutor];
    const rows = [];
    for (const Pool of pools) {
      const ran = await runOn(wx, Pool);
      show(ran);
      rows.push(...ran);
    }
    document.querySelector('#log').textContent = wx.logLines().join('\n');
    return { build: wx.build, rows };
  } catch (error) {
    status.textContent = `Failed: ${error.message}`;
    throw error;
  }
})();
