// The demo page: runs scenario 1 and shows its log and job records as they happen.
import { load } from './web-executors.js';

const $ = (selector) => document.querySelector(selector);

function show(wx, since) {
  const rows = wx.records().filter((r) => r.submitted >= since);
  $('#jobs tbody').replaceChildren(
    ...rows.map((r) => {
      const tr = document.createElement('tr');
      const cells = [
        r.label,
        r.worker ?? '—',
        r.started ? (r.started - r.submitted).toFixed(1) : '…',
        r.finished && r.started ? (r.finished - r.started).toFixed(1) : '…',
        r.result ?? r.error ?? '',
      ];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
  $('#log').textContent = wx.logLines().join('\n');
}

try {
  const wx = await load();
  $('#build').textContent = `Running on the ${wx.build} build: workers share memory.`;
  const button = $('#run');
  button.disabled = false;
  button.addEventListener('click', async () => {
    button.disabled = true;
    wx.clearRecords();
    const since = performance.timeOrigin + performance.now();
    let frame = requestAnimationFrame(function tick() {
      show(wx, since);
      frame = requestAnimationFrame(tick);
    });
    try {
      await wx.runScenario('blocking-squares', { maxWorkers: 3 });
    } catch (error) {
      $('#log').textContent += `\n${error.message}`;
    } finally {
      cancelAnimationFrame(frame);
      show(wx, since);
      button.disabled = false;
    }
  });
  if (new URLSearchParams(location.search).has('run')) button.click();
} catch (error) {
  $('#build').textContent = error.message;
  $('#build').classList.add('error');
}
