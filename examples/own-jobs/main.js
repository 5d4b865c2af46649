// The example's page: the library's loader given this example's own two builds
// (examples/own-jobs/build.sh), then its two jobs on each kind of pool, in a table.
import { load } from '../../www/library/web-executors.js';

const builds = {
  threads: new URL('./pkg/threads/own_jobs.js', import.meta.url),
  plain: new URL('./pkg/plain/own_jobs.js', import.meta.url),
};

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
      worker: job.worker ?? '',
      shown: settled[i].status === 'fulfilled' ? JSON.stringify(settled[i].value) : settled[i].reason.message,
      failed: settled[i].status === 'rejected',
      ms: started == null || finished == null ? '' : Math.round(finished - started),
    };
  });
}

function show(rows) {
  const body = document.querySelector('#jobs tbody');
  for (const row of rows) {
    const tr = body.insertRow();
    if (row.failed) tr.className = 'failed';
    for (const text of [row.executor, row.label, row.shown, row.worker, row.ms]) tr.insertCell().textContent = text;
    tr.cells[4].className = 'number';
  }
}

const status = document.querySelector('#status');
try {
  const wx = await load({ builds });
  const jobs = wx.jobNames().join(', ');
  status.textContent = wx.threadsAvailable
    ? `Build: threads. Jobs: ${jobs}.`
    : `Build: plain (no ThreadPoolExecutor: ${wx.whyNoThreads}). Jobs: ${jobs}.`;
  for (const Pool of wx.threadsAvailable ? [wx.ThreadPoolExecutor, wx.ProcessPoolExecutor] : [wx.ProcessPoolExecutor]) {
    show(await runOn(wx, Pool));
  }
  // Each line by who logged it: a thread by its name, a process worker by its id (the
  // page is process 10000).
  const who = (line) => (line.process === 10000 ? line.thread : `PID ${line.process}`);
  document.querySelector('#log').textContent = wx.logEntries().map((l) => `${who(l).padEnd(24)} ${l.logger}: ${l.message}`).join('\n');
  document.body.dataset.state = 'done'; // for a test (or a script) waiting on the page
} catch (error) {
  status.textContent = `Failed: ${error.message}`;
  document.body.dataset.state = 'failed';
  throw error;
}
