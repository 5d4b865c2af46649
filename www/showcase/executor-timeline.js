// <executor-timeline>: a scenario of docs/scenarios.md, runnable, with the live timeline of
// which worker ran each job, its log and a main-thread heartbeat. One module, one tag;
// it loads the wasm, workers and styles relative to itself. The demo page uses it with
// its controls, docs pages as a widget (`compact`). The drawing model is Rust
// (crate/showcase/timeline/model.rs); this file is the element, its events and the page-wide budget.
import { load } from './showcase.js';

const STYLES = new URL('./executor-timeline.css', import.meta.url).href;

/** The scenarios: each one's name in the list, the parameters it uses, its heading as
 * a plan runs it (the executor it runs on, not its default's), and its result in words
 * where a bare number would not say what it counts. */
const SCENARIOS = {
  'blocking-squares': {
    title: '1. Blocking squares on three threads',
    uses: ['executor', 'maxWorkers', 'jobs'],
    heading: (plan) => `1. Blocking squares on ${pool(plan)}`,
  },
  'blocking-squares-processes': {
    title: '2. The same on three processes',
    uses: ['executor', 'maxWorkers', 'jobs'],
    heading: (plan) => `2. The same on ${pool(plan)}`,
  },
  'to-thread': { title: '3. A blocking task with to_thread', uses: ['blockMs'] },
  'run-in-executor': { title: '4. The same with run_in_executor(None, …)', uses: ['blockMs'] },
  'cpu-bound': {
    title: '5. A CPU-bound task on a process pool',
    uses: ['executor', 'maxWorkers', 'n'],
    heading: (plan) => `5. A CPU-bound task on a ${plan.executor === 'threads' ? 'thread' : 'process'} pool`,
  },
  'choose-executor': { title: '6. Choosing the right executor', uses: ['gets', 'n'] },
  'free-form': {
    title: 'Free form: mix job kinds',
    uses: ['executor', 'maxWorkers', 'jobs', 'blockMs', 'cpuJobs', 'n', 'gets'],
    result: (failed) => `${failed} job${failed === 1 ? '' : 's'} failed`,
  },
};

const NUMBERS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

/** `three threads`, `one process`: a plan's pool in words. */
function pool({ maxWorkers, executor }) {
  const kind = maxWorkers === 1 ? executor.replace(/(es|s)$/, '') : executor;
  return `${NUMBERS[maxWorkers] ?? maxWorkers} ${kind}`;
}

/** Each parameter: its attribute, its label, and whether it is a number. */
const PARAMS = {
  executor: ['executor', 'executor'],
  maxWorkers: ['workers', 'max_workers', true],
  jobs: ['jobs', 'jobs', true],
  blockMs: ['block-ms', 'block ms', true],
  n: ['n', 'CPU loop n', true],
  gets: ['gets', 'GETs', true],
  cpuJobs: ['cpu-jobs', 'CPU jobs', true],
  url: ['url', 'GET url'],
};

const ATTRIBUTES = ['scenario', 'autoplay', 'height', 'compact', 'devtools-tracks', ...Object.values(PARAMS).map(([a]) => a)];
/** Each option by its attribute's name, for the library to name them so in messages. */
const ATTRIBUTE_NAMES = Object.fromEntries(Object.entries(PARAMS).map(([option, [attribute]]) => [option, attribute]));

const KIND_COLOURS = 8;
/** The log panel shows a run's last so many lines. */
const LOG_LINES = 200;
/** The list under the timeline shows the first so many log lines in view. */
const LINES_IN_VIEW = 100;
/** Counts as "12,345". One formatter: `toLocaleString('en')` makes a new one per call,
 * which cost the legend a millisecond a frame. */
const COUNT = new Intl.NumberFormat('en');

/** The browser's own report of long frames, where it has one: Chromium's long animation
 * frames, or else long tasks. Firefox and Safari report neither. */
const LONG_FRAMES = ['long-animation-frame', 'longtask'].find((type) => globalThis.PerformanceObserver?.supportedEntryTypes?.includes(type));

/** The longest gap between the page's frames during a run, measured apart from the
 * widget's drawing: a requestAnimationFrame timer of its own from the moment the run
 * starts (so a freeze while jobs are submitted, before the first frame, counts) to a
 * frame after it ends (so does drawing the end), and the browser's long-frame entries
 * where it reports them. */
class FrameGaps {
  /** The timer's longest gap (ms), and the longest entry the browser reported (ms; null
   * where it reports none). */
  timer = 0;
  reported = null;
  #since = 0;
  #last = 0;
  #frame = 0;
  #observer = null;
  #starts = 0;

  start() {
    this.#end();
    this.#starts++;
    this.timer = 0;
    this.reported = LONG_FRAMES ? 0 : null;
    this.#since = this.#last = performance.now();
    const tick = () => {
      const now = performance.now();
      this.timer = Math.max(this.timer, now - this.#last);
      this.#last = now;
      this.#frame = requestAnimationFrame(tick);
    };
    this.#frame = requestAnimationFrame(tick);
    if (LONG_FRAMES) {
      this.#observer = new PerformanceObserver((list) => this.#take(list.getEntries()));
      this.#observer.observe({ type: LONG_FRAMES });
    }
  }

  /** Stops after the next frame (a hidden page draws none: a second at most), unless a
   * new run has started it again meanwhile. */
  async stop() {
    const started = this.#starts;
    await new Promise((go) => {
      requestAnimationFrame(() => go());
      setTimeout(go, 1000);
    });
    if (started === this.#starts) this.#end();
  }

  #end() {
    cancelAnimationFrame(this.#frame);
    if (this.#observer) this.#take(this.#observer.takeRecords());
    this.#observer?.disconnect();
    this.#observer = null;
  }

  #take(entries) {
    for (const entry of entries) if (entry.startTime + entry.duration >= this.#since) this.reported = Math.max(this.reported, entry.duration);
  }

  get longest() {
    return Math.max(this.timer, this.reported ?? 0);
  }

  /** The figure and what measured it. */
  describe() {
    const ms = (value) => `${value.toFixed(1)} ms`;
    const name = LONG_FRAMES === 'longtask' ? 'long task' : 'long animation frame';
    const reported = this.reported === null ? 'this browser reports no long frames' : this.reported ? `longest ${name} ${ms(this.reported)}` : `no ${name} over 50 ms`;
    return `longest frame gap ${ms(this.longest)} (page frame timer ${ms(this.timer)}; ${reported})`;
  }
}

// One budget of workers for every widget on the page (see crate/showcase/budget.rs).
let shared;
async function page() {
  shared ??= load().then((wx) => ({ wx, budget: new wx.WorkerBudget(navigator.hardwareConcurrency || 2), waiters: new Map() }));
  return shared;
}

let nextWidget = 1;

export class ExecutorTimeline extends HTMLElement {
  static observedAttributes = ATTRIBUTES;

  #id = nextWidget++;
  #ui;
  #wx;
  #timeline;
  #run = 0;
  #running = null;
  #visible = false;
  #whenVisible = [];
  #frame = 0;
  /** Lines of the run's log read so far, and the last LOG_LINES of them, shown. */
  #logFrom = 0;
  #logTail = [];
  #gaps = new FrameGaps();
  #pointers = new Map();
  /** Where the last pointer went down: a touch that lifts near it is a tap. */
  #pressedAt;
  /** When the shown run ended, for a timeline made afresh (epoch ms; undefined while it goes on). */
  #endedAt;
  /** The tooltip's job, whose bar it stays on through zoom and pan, and where along the bar. */
  #tipJob;
  #tipX = 0;
  /** What the legend and the list of lines show, so that they change only when it does. */
  #legendShown = '';
  #linesShown = '';
  #ready;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = STYLES;
    root.append(link, template());
    this.#ui = ui(root);
    this.#wire();
  }

  connectedCallback() {
    // Put back on the page after it left: its timeline again.
    if (this.#ready && this.#wx && !this.#timeline) this.#attach();
    this.#ready ??= this.#start();
    this.#observer = new IntersectionObserver((entries) => {
      this.#visible = entries.some((e) => e.isIntersecting);
      if (this.#visible) this.#whenVisible.splice(0).forEach((go) => go());
    });
    this.#observer.observe(this);
  }

  #observer;

  disconnectedCallback() {
    this.#observer?.disconnect();
    cancelAnimationFrame(this.#beat);
    cancelAnimationFrame(this.#frame);
    this.#gaps.stop();
    // A widget taken off the page stops its run, gives back its workers, ends a wait
    // for them or for being scrolled into view (the run then ends, having started
    // nothing), and lets go of its timeline, its records and its listeners: nothing
    // outside the widget holds it any more.
    if (this.#wx) {
      if (this.#running) this.#wx.stopRun(this.#run);
      page().then(({ budget, waiters }) => {
        release(budget, waiters, () => budget.withdraw(this.#id));
        waiters.get(this.#id)?.();
        waiters.delete(this.#id);
      });
      this.#whenVisible.splice(0).forEach((go) => go());
      this.#detach();
    }
  }

  /** The timeline on the canvas, and what follows the page's size and colours. */
  #attach() {
    const wx = this.#wx;
    this.#listening = new AbortController();
    const makeTimeline = () => {
      this.#timeline?.free();
      this.#timeline = new wx.Timeline(this.#ui.canvas, palette(this.#ui.root));
      this.#timeline.setRun(this.#run);
      if (this.#endedAt) this.#timeline.finish(this.#endedAt);
      this.#legendShown = '';
    };
    makeTimeline();
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
      makeTimeline();
      this.#resize();
    }, { signal: this.#listening.signal });
    this.#sizes = new ResizeObserver(() => this.#resize());
    this.#sizes.observe(this.#ui.box);
  }

  #detach() {
    this.#listening?.abort();
    this.#sizes?.disconnect();
    this.#timeline?.free();
    this.#timeline = null;
    if (!this.#running) this.#wx.forgetRun(this.#run);
  }

  #listening;
  #sizes;

  attributeChangedCallback(name, old, value) {
    // Another scenario in the controls: the run of the one before goes no further.
    if (name === 'scenario' && old !== value) this.stop();
    if (name === 'devtools-tracks' && value !== null) load({ devtoolsTracks: true });
    if (this.#ui) this.#render();
  }

  /** Runs the scenario once the widget is on screen and its workers are free; resolves
   * to the run's job records (those it made before it was stopped, if it was). */
  async run() {
    return (await this.#runOnce())();
  }

  /** Starts a run, or joins the one going on. Resolves to a function that reads the
   * run's records: reading 50,000 of them takes longer than a frame, so only a caller
   * that wants them (run(), runcomplete's `detail.records`) pays for it. */
  async #runOnce() {
    await this.#ready;
    if (this.#running) return this.#running;
    this.#stopping = false;
    this.#running = this.#go().finally(() => {
      this.#running = null;
      this.#ui.run.disabled = false;
      this.#ui.main.disabled = false;
      this.#ui.replay.disabled = false;
      this.#ui.stop.disabled = true;
    });
    return this.#running;
  }

  /** Stops the run going on: its queued jobs are cancelled, its process workers end at
   * once and its threads as soon as their job ends (a thread cannot be interrupted).
   * A run still waiting for its turn or to be scrolled into view starts nothing. */
  stop() {
    if (!this.#running || this.#stopping) return;
    this.#stopping = true;
    if (this.#started) this.#wx.stopRun(this.#run);
    this.#whenVisible.splice(0).forEach((go) => go());
    page().then(({ budget, waiters }) => {
      release(budget, waiters, () => budget.release(this.#id));
      waiters.get(this.#id)?.();
      waiters.delete(this.#id);
    });
  }

  /** Set by `stop()` until the next run; `#started` while its program runs. */
  #stopping = false;
  #started = false;

  /** The last run as Chrome trace-event JSON (Perfetto, DevTools). */
  trace() {
    return this.#wx ? this.#wx.runTrace(this.#run) : { traceEvents: [] };
  }

  /** The last run's job records. */
  records() {
    return this.#wx ? this.#wx.runRecords(this.#run) : [];
  }

  /** How many bars the timeline holds. */
  get barCount() {
    return this.#timeline?.barCount ?? 0;
  }

  /** The longest gap between the page's frames (ms) during the last run (see FrameGaps). */
  get longestFrameGap() {
    return this.#gaps.longest;
  }

  /** The time window on screen: ms from the run's start. */
  get view() {
    const [from, to] = this.#timeline?.view ?? [0, 0];
    return { from, to };
  }

  /** Draws the timeline once and returns how long it took (ms): for the benchmark. */
  drawOnce() {
    const start = performance.now();
    this.#timeline.draw();
    return performance.now() - start;
  }

  get #scenario() {
    return this.getAttribute('scenario') || 'blocking-squares';
  }

  /** The runScenario options the attributes give, or the message that says what is wrong. */
  #options() {
    const options = {};
    for (const key of SCENARIOS[this.#scenario]?.uses ?? []) {
      const [attribute, , numeric] = PARAMS[key];
      const text = this.getAttribute(attribute);
      if (text === null || text === '') continue;
      options[key] = numeric ? Number(text) : text;
    }
    const url = this.getAttribute('url');
    if (url && SCENARIOS[this.#scenario]?.uses.includes('gets')) options.url = url;
    return options;
  }

  /** Checks the attributes; shows what is wrong, in the widget and the console. */
  #plan() {
    if (!SCENARIOS[this.#scenario]) {
      return this.#problem(`scenario="${this.#scenario}" is not a scenario; use one of ${Object.keys(SCENARIOS).join(', ')}`);
    }
    try {
      const plan = this.#wx.planRun(this.#scenario, this.#options(), ATTRIBUTE_NAMES);
      this.#reported = null;
      return plan;
    } catch (error) {
      return this.#problem(error.message);
    }
  }

  #problem(message) {
    this.#say(message, 'error');
    // Once per mistake, however often the widget re-renders.
    if (message !== this.#reported) console.error(`<executor-timeline>: ${message}`);
    this.#reported = message;
    return null;
  }

  #reported = null;

  #say(text, tone = '') {
    this.#ui.status.textContent = text;
    this.#ui.status.className = `status ${tone}`;
  }

  async #start() {
    try {
      const { wx, budget } = await page();
      this.#wx = wx;
      this.#ui.build.textContent = wx.threadsAvailable
        ? 'threads: workers share memory'
        : 'processes only: this page is not cross-origin isolated';
      this.#ui.build.title = wx.whyNoThreads ?? 'The page is cross-origin isolated, so workers run as threads of one wasm instance.';
      this.#attach();
      this.#render();
      const plan = this.#plan();
      if (plan) budget.declare(this.#id, plan.workers);
      // A bad attribute is shown in the widget and said once in the console already.
      // A link or a page may start only a modest run by itself; a larger one waits
      // for the visitor's click.
      if (this.hasAttribute('autoplay') && plan?.needsAClick) {
        this.#say(`Press Run to start this run: ${plan.needsAClick}.`, 'waiting');
      } else if (this.hasAttribute('autoplay') && plan) {
        this.run().catch(() => {});
      }
    } catch (error) {
      this.#problem(`could not start: ${error.message}`);
    }
  }

  /** Shows the attributes: controls, code, the plan's message. */
  #render() {
    const ui = this.#ui;
    const scenario = this.#scenario;
    const uses = SCENARIOS[scenario]?.uses ?? [];
    ui.root.classList.toggle('compact', this.hasAttribute('compact'));
    ui.scenario.value = SCENARIOS[scenario] ? scenario : '';
    for (const [key, field] of Object.entries(ui.fields)) {
      field.parentElement.hidden = !uses.includes(key);
      const value = this.getAttribute(PARAMS[key][0]);
      if (value !== null && document.activeElement !== this) field.value = value;
      if (value === null) field.value = '';
    }
    ui.title.textContent = SCENARIOS[scenario]?.title ?? 'Unknown scenario';
    const height = Number(this.getAttribute('height'));
    ui.box.style.height = height > 0 ? `${height}px` : '';
    if (!this.#wx) return;
    ui.code.textContent = this.#wx.scenarioSource(scenario) ?? '';
    const plan = this.#plan();
    if (plan) {
      // Each field shows the value it will run with when left empty.
      for (const [key, field] of Object.entries(ui.fields)) {
        if (key === 'executor') field.options[0].textContent = `default (${plan.executor})`;
        else if (plan[key] !== undefined) field.placeholder = String(plan[key]);
      }
      ui.title.textContent = SCENARIOS[scenario].heading?.(plan) ?? ui.title.textContent;
      this.#say(`${plan.workers} worker${plan.workers === 1 ? '' : 's'} at most, on ${plan.executor}`);
      page().then(({ budget, waiters }) => release(budget, waiters, () => budget.declare(this.#id, plan.workers)));
    }
    this.#resize();
  }

  /** Fits the canvas to the box and the run's lanes; `redraw: false` leaves the drawing
   * to the caller, which is about to draw anyway. */
  #resize(redraw = true) {
    if (!this.#timeline) return;
    const width = this.#ui.box.clientWidth;
    const fixed = Number(this.getAttribute('height'));
    const height = fixed > 0 ? fixed : Math.max(120, Math.min(this.#timeline.wantedHeight(), 420));
    this.#ui.canvas.style.height = `${height}px`;
    this.#canvasHeight = height;
    this.#timeline.resize(width, height, devicePixelRatio || 1);
    if (redraw) this.#redraw(false);
  }

  async #go() {
    const { wx, budget, waiters } = await page();
    this.#ui.run.disabled = true;
    this.#ui.main.disabled = true;
    this.#ui.replay.disabled = true;
    this.#ui.stop.disabled = false;
    // The last run's result goes, whether this one runs or fails.
    this.#showResult('');
    const plan = this.#plan();
    if (!plan) throw new Error(this.#ui.status.textContent);
    const stoppedBeforeItStarted = () => {
      if (this.isConnected) this.#say('Stopped before it started.');
      return () => [];
    };
    if (!this.#visible) {
      this.#say('Waiting to scroll into view…', 'waiting');
      await new Promise((go) => this.#whenVisible.push(go));
    }
    if (!this.isConnected || this.#stopping) return stoppedBeforeItStarted();
    if (!budget.request(this.#id, plan.workers)) {
      this.#say(`Waiting for workers: ${budget.inUse} of ${budget.limit} busy in other timelines on this page…`, 'waiting');
      await new Promise((go) => waiters.set(this.#id, go));
    }
    if (!this.isConnected || this.#stopping) return stoppedBeforeItStarted();
    const scenario = this.#scenario;
    const options = this.#options();
    wx.forgetRun(this.#run);
    this.#run = wx.newRun();
    this.#endedAt = undefined;
    this.#timeline.setRun(this.#run);
    this.#byProcess = plan.executor === 'processes';
    this.#clearLog();
    this.#heartbeat();
    this.#say(`Running on ${plan.executor}…`, 'busy');
    this.#emit('runstart', { run: this.#run, scenario, options });
    this.#follow();
    let result;
    let error;
    try {
      this.#started = true;
      result = await wx.runScenario(scenario, { ...options, run: this.#run });
    } catch (e) {
      // A stop is the visitor's doing, not the run's failure.
      if (!this.#stopping) error = e;
    } finally {
      this.#started = false;
      cancelAnimationFrame(this.#frame);
      release(budget, waiters, () => budget.release(this.#id));
    }
    if (!this.#timeline) {
      // The widget left the page during the run.
      wx.forgetRun(this.#run);
      if (error) throw error;
      return () => [];
    }
    this.#endedAt = this.#timeline.finish();
    // Fitted to the run as it ended, then drawn once: the end's frame holds a lot.
    this.#resize(false);
    this.#update();
    await this.#stopHeartbeat();
    this.#ui.replay.textContent = 'Run again';
    const run = this.#run;
    let read;
    const records = () => (read ??= wx.runRecords(run));
    const gap = `longest frame gap ${this.#gaps.longest.toFixed(1)} ms`;
    const stopped = this.#stopping;
    if (stopped) {
      const all = records();
      const count = (outcome) => all.filter((r) => r.outcome === outcome).length;
      const running = all.filter((r) => r.outcome === null && r.state === 'RUNNING').length;
      this.#say(`Stopped: ${all.length - count('cancelled') - running} of ${all.length} jobs ended, ${count('cancelled')} cancelled${running ? `, ${running} still running on threads, which go when their job ends` : ''} · ${gap}`);
    } else {
      const shown = SCENARIOS[scenario].result?.(result) ?? JSON.stringify(result);
      this.#showResult(error ? `Failed: ${error.message}` : `Result: ${shown}`, error);
      const jobs = this.#timeline.barCount;
      this.#say(`Done: ${COUNT.format(jobs)} job${jobs === 1 ? '' : 's'} · ${gap}`);
    }
    this.#emit('runcomplete', {
      run,
      get records() {
        return records();
      },
      result,
      error,
      stopped,
    });
    if (error) throw error;
    return records;
  }

  #showResult(text, error = null) {
    this.#ui.result.textContent = text;
    this.#ui.result.className = error ? 'result error' : 'result';
  }

  /** Redraws while the run goes on: each frame, unless the last update took long. An
   * update reads the run's records and log afresh, which costs in proportion to the
   * run (about 8 ms a frame at 20,000 jobs): it gets at most a quarter of the time, so
   * that the page stays smooth. */
  #follow() {
    const now = performance.now();
    if (now >= this.#nextUpdate) {
      this.#update(true);
      this.#nextUpdate = now + 4 * (performance.now() - now);
    }
    this.#frame = requestAnimationFrame(() => this.#follow());
  }

  #nextUpdate = 0;
  /** The canvas's height as #resize set it: reading it back would make the browser lay
   * the page out in the middle of a frame. */
  #canvasHeight = 0;

  /** `live`: a frame of the run, not its end. */
  #update(live = false) {
    const timeline = this.#timeline;
    timeline.refresh();
    if (this.#canvasHeight < Math.min(timeline.wantedHeight(), 420) && !this.getAttribute('height')) this.#resize(false);
    this.#redraw(false);
    // Each job's record is made when a listener reads it: unread, 50,000 of them were
    // garbage enough for a long pause in Firefox.
    for (const id of timeline.takeFinished()) {
      let record;
      this.#emit('jobfinished', {
        get record() {
          try {
            record ??= timeline.record(id);
          } catch {
            record = null; // the widget has left the page, and its timeline with it
          }
          return record;
        },
      });
    }
    this.#showLog(live);
  }

  /** Draws the timeline and what follows its view: the tooltip, the legend, the lines.
   * `moved`: the reader zoomed or panned. */
  #redraw(moved) {
    if (!this.#timeline) return;
    this.#timeline.draw();
    this.#placeTip(moved);
    this.#showLegend();
    this.#showLines();
  }

  /** The legend's entries, each with the colour and shape the timeline draws it in, and
   * how many the run has (none: dimmed). */
  #showLegend() {
    const entries = this.#timeline.legend();
    const shown = JSON.stringify(entries);
    if (shown === this.#legendShown) return;
    this.#legendShown = shown;
    this.#ui.legend.replaceChildren(
      ...entries.map(({ label, colour, swatch, count }) => {
        const mark = element('span', { className: `swatch ${swatch}` });
        mark.style.setProperty('--swatch', colour);
        return element('li', { className: count ? '' : 'none' }, mark, element('span', {}, label), element('span', { className: 'count' }, COUNT.format(count)));
      }),
    );
  }

  /** The log lines whose ticks are in view, in order, numbered as in the run: scenarios
   * 3 and 4 are about that order, which ticks a millisecond apart cannot show. */
  #showLines() {
    const all = this.#timeline.lineCount;
    const count = (n) => COUNT.format(n);
    // Closed, the list costs nothing but its count.
    if (!this.#ui.lines.parentElement.open) {
      this.#ui.linesSummary.textContent = `Log lines (${count(all)})`;
      this.#linesShown = '';
      return;
    }
    const { rows, total } = this.#timeline.linesInView(LINES_IN_VIEW);
    const shown = `${all} ${total} ${rows.map((row) => row[0]).join()}`;
    if (shown === this.#linesShown) return;
    this.#linesShown = shown;
    this.#ui.linesSummary.textContent = total === all ? `Log lines (${count(all)})` : `Log lines: ${count(total)} of ${count(all)}, those in view`;
    const items = rows.map(([number, time, lane, said]) =>
      element('li', { value: number }, element('span', { className: 'time' }, time), ' ', element('span', { className: 'lane' }, lane), ' ', element('span', { className: 'said' }, said)),
    );
    if (total > rows.length) items.push(element('li', { className: 'more' }, `… ${count(total - rows.length)} more in view: zoom in, or read the log and the trace`));
    this.#ui.lines.replaceChildren(...items);
  }

  #clearLog() {
    this.#logFrom = 0;
    this.#logTail = [];
    this.#ui.log.textContent = '';
  }

  /** Adds the run's new log lines to the panel. It shows the last LOG_LINES only: the
   * panel is for reading, the trace for keeping; and a panel of 40,000 lines costs
   * the browser a long layout on every frame it changes. `live`: while the run goes
   * on, at most ten times a second (nobody reads faster, and laying out the panel's
   * lines each frame cost a long run its smoothness). */
  #showLog(live = false) {
    const now = performance.now();
    if (live && now < this.#logShownAt + 100) return;
    this.#logShownAt = now;
    const lines = this.#wx.runLog(this.#run, this.#byProcess, this.#logFrom);
    if (!lines.length) return;
    this.#logFrom += lines.length;
    this.#logTail = this.#logTail.concat(lines).slice(-LOG_LINES);
    const earlier = this.#logFrom - this.#logTail.length;
    const log = this.#ui.log;
    log.textContent = `${earlier ? `… ${COUNT.format(earlier)} earlier lines are in the trace\n` : ''}${this.#logTail.join('\n')}`;
  }

  #logShownAt = 0;

  /** A run on processes logs with process ids, as scenario 2's Python program does. */
  #byProcess = false;

  /** The same jobs on the main thread: the heartbeat stops while they run. */
  async #onMainThread() {
    this.#showResult('');
    const plan = this.#plan();
    if (!plan) return;
    this.#wx.forgetRun(this.#run);
    this.#run = this.#wx.newRun();
    this.#endedAt = undefined;
    this.#timeline.setRun(this.#run);
    this.#byProcess = false;
    this.#clearLog();
    this.#heartbeat();
    this.#say('Running on the main thread: the page cannot draw until it ends…', 'busy');
    // Let that message and one more heartbeat frame show before the page freezes.
    await new Promise((go) => requestAnimationFrame(() => setTimeout(go, 30)));
    const results = this.#wx.runOnMainThread(this.#scenario, { ...this.#options(), run: this.#run });
    this.#endedAt = this.#timeline.finish();
    // Fitted to the run as it ended, then drawn once: the end's frame holds a lot.
    this.#resize(false);
    this.#update();
    // The timer's first frame after the freeze measures it.
    await this.#stopHeartbeat();
    this.#showResult(`Results on the main thread: ${JSON.stringify(results)}`);
    this.#say(`Done on the main thread · longest frame gap ${this.#gaps.longest.toFixed(1)} ms`);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  #beat = 0;

  /** The heartbeat, while a run goes on (an idle page should cost nothing): a dot that
   * moves once a frame, and the longest gap between the page's frames (FrameGaps). */
  #heartbeat() {
    cancelAnimationFrame(this.#beat);
    this.#gaps.start();
    this.#ui.gap.textContent = 'longest frame gap –';
    const still = matchMedia('(prefers-reduced-motion: reduce)');
    const tick = (now) => {
      this.#ui.gap.textContent = this.#gaps.describe();
      const phase = (now / 1000) % 2;
      const x = phase < 1 ? phase : 2 - phase;
      // Reduced motion: the dot stays and blinks a frame count instead of sliding.
      if (still.matches) this.#ui.dot.dataset.frame = String(Math.floor(now / 500) % 2);
      else this.#ui.dot.style.transform = `translateX(${(x * 100).toFixed(1)}%)`;
      this.#beat = requestAnimationFrame(tick);
    };
    this.#beat = requestAnimationFrame(tick);
  }

  async #stopHeartbeat() {
    await this.#gaps.stop();
    cancelAnimationFrame(this.#beat);
    this.#ui.gap.textContent = this.#gaps.describe();
  }

  /** The tooltip for `target` (from `targetAt`: a job, or log lines; null hides it) at
   * (`x`, `y`) on the canvas. */
  #tip(target, x, y) {
    this.#markListed(target?.lines?.map(([number]) => number) ?? []);
    const tip = this.#ui.tip;
    this.#tipJob = target?.job;
    this.#tipX = x;
    if (!target) {
      tip.hidden = true;
      return;
    }
    if (target.job !== undefined) {
      const [head, ...rest] = this.#timeline.details(target.job);
      tip.replaceChildren(element('strong', {}, head), ...rest.map((line) => element('div', {}, line)));
    } else {
      const shown = target.lines.slice(0, 6);
      const rows = shown.map(([, time, lane, said]) => element('div', {}, element('strong', {}, said), element('div', { className: 'muted' }, `${time} · ${lane}`)));
      if (target.lines.length > shown.length) rows.push(element('div', { className: 'muted' }, `… ${target.lines.length - shown.length} more lines here: zoom in`));
      tip.replaceChildren(...rows);
    }
    tip.hidden = false;
    this.#moveTip(x, y);
  }

  /** Marks the list's lines `numbers` (those whose ticks the pointer is on). */
  #markListed(numbers) {
    for (const li of this.#ui.lines.children) li.classList.toggle('marked', numbers.includes(li.value));
  }

  /** The log line whose tick stands out (pointed at in the list), by number, or null. */
  get markedLine() {
    return this.#markedLine;
  }

  #markedLine = null;

  #markLine(number) {
    if (number === this.#markedLine || !this.#timeline) return;
    this.#markedLine = number;
    this.#timeline.markLine(number ?? undefined);
    this.#timeline.draw();
  }

  #moveTip(x, y) {
    const tip = this.#ui.tip;
    const box = this.#ui.box.getBoundingClientRect();
    tip.style.left = `${Math.max(0, Math.min(x + 12, box.width - tip.offsetWidth - 4))}px`;
    tip.style.top = `${y + 14}px`;
  }

  /** After a zoom, a pan (`moved`) or a frame of the run: a job's tooltip stays on its
   * bar, or goes with it out of view; log lines' tooltips go when the reader moves the
   * view (their ticks move away). */
  #placeTip(moved) {
    if (this.#ui.tip.hidden || (this.#tipJob === undefined && !moved)) return;
    const box = this.#tipJob === undefined ? undefined : this.#timeline.barBox(this.#tipJob);
    if (!box) {
      this.#tip(null);
      return;
    }
    const [x, y, width, height] = box;
    this.#tipX = Math.min(Math.max(this.#tipX, x), x + width);
    this.#moveTip(this.#tipX, y + height - 14);
  }

  /** Says once in a while, over the timeline, how to zoom with the wheel. */
  #hintZoom() {
    const hint = this.#ui.hint;
    hint.hidden = false;
    clearTimeout(this.#hintTimer);
    this.#hintTimer = setTimeout(() => (hint.hidden = true), 1500);
  }

  #hintTimer = 0;

  #wire() {
    const ui = this.#ui;
    const canvas = ui.canvas;
    const at = (event) => {
      const r = canvas.getBoundingClientRect();
      return [event.clientX - r.left, event.clientY - r.top];
    };
    const redraw = () => this.#redraw(true);
    canvas.addEventListener('wheel', (event) => {
      if (!this.#timeline) return;
      // A guest in a page: the wheel scrolls the page, unless Ctrl or ⌘ is held (a
      // trackpad's pinch comes as a wheel with Ctrl) or the timeline has been clicked.
      if (!(event.ctrlKey || event.metaKey || this.shadowRoot.activeElement === canvas)) {
        this.#hintZoom();
        return;
      }
      event.preventDefault();
      // A pinch's steps are small, a wheel's notch large (lines in Firefox): each zooms
      // by a step a reader can follow.
      const dy = event.deltaMode === WheelEvent.DOM_DELTA_LINE ? event.deltaY * 33 : event.deltaY;
      this.#timeline.zoomAt(at(event)[0], Math.exp(-dy * (Math.abs(dy) < 50 ? 0.01 : 0.002)));
      redraw();
    }, { passive: false });
    canvas.addEventListener('pointerdown', (event) => {
      // A pointer already gone cannot be captured; the drag then ends at the edge.
      try {
        canvas.setPointerCapture(event.pointerId);
      } catch {}
      this.#pointers.set(event.pointerId, at(event));
      this.#pressedAt = at(event);
    });
    canvas.addEventListener('pointermove', (event) => {
      if (!this.#timeline) return;
      const [x, y] = at(event);
      const last = this.#pointers.get(event.pointerId);
      if (last && this.#pointers.size === 1) {
        this.#timeline.panBy(x - last[0]);
        redraw();
      } else if (last && this.#pointers.size === 2) {
        // Pinch: the change in distance between the two fingers is the zoom.
        const other = [...this.#pointers].find(([id]) => id !== event.pointerId)[1];
        const before = Math.hypot(last[0] - other[0], last[1] - other[1]);
        const after = Math.hypot(x - other[0], y - other[1]);
        if (before > 0) this.#timeline.zoomAt((x + other[0]) / 2, after / before);
        redraw();
      }
      if (last) this.#pointers.set(event.pointerId, [x, y]);
      else this.#tip(this.#timeline.targetAt(x, y), x, y);
    });
    const lift = (event) => this.#pointers.delete(event.pointerId);
    canvas.addEventListener('pointerup', (event) => {
      lift(event);
      // A touch screen has no hover: a tap (a touch that did not drag) shows what is
      // under it, and selects a job's bar; a tap on nothing hides the tooltip.
      const [x, y] = at(event);
      const [x0, y0] = this.#pressedAt ?? [Infinity, Infinity];
      if (event.pointerType !== 'touch' || !this.#timeline || Math.hypot(x - x0, y - y0) > 10) return;
      const target = this.#timeline.targetAt(x, y);
      this.#timeline.select(target?.job);
      this.#tip(target, x, y);
      this.#redraw(false);
    });
    canvas.addEventListener('pointercancel', lift);
    // A finger lifted leaves the canvas too: its tooltip stays until the next tap.
    canvas.addEventListener('pointerleave', (event) => event.pointerType !== 'touch' && this.#tip(null));
    // A line pointed at in the list marks its tick on the timeline.
    ui.lines.addEventListener('pointerover', (event) => {
      const li = event.target.closest?.('li');
      this.#markLine(li && !li.classList.contains('more') ? li.value : null);
    });
    ui.lines.addEventListener('pointerleave', () => this.#markLine(null));
    canvas.addEventListener('dblclick', () => {
      this.#timeline?.fit();
      redraw();
    });
    canvas.addEventListener('keydown', (event) => {
      const timeline = this.#timeline;
      if (!timeline) return;
      const steps = { ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down' };
      const middle = canvas.clientWidth / 2;
      if (steps[event.key]) {
        const id = timeline.step(steps[event.key]);
        const box = id === undefined ? null : timeline.barBox(id);
        this.#tip(id === undefined ? null : { job: id }, box ? box[0] : 0, box ? box[1] + box[3] - 14 : 0);
        ui.live.textContent = id === undefined ? '' : timeline.details(id).join('; ');
      } else if (event.key === '+' || event.key === '=') timeline.zoomAt(middle, 1.5);
      else if (event.key === '-') timeline.zoomAt(middle, 1 / 1.5);
      else if (event.key === '0') timeline.fit();
      else if (event.key === 'Escape') {
        timeline.select(undefined);
        this.#tip(null);
      } else return;
      event.preventDefault();
      redraw();
    });
    // The controls write attributes, so the element stays the one source of truth.
    ui.scenario.addEventListener('change', () => this.setAttribute('scenario', ui.scenario.value));
    for (const [key, field] of Object.entries(ui.fields)) {
      field.addEventListener('change', () => {
        const attribute = PARAMS[key][0];
        if (field.value === '') this.removeAttribute(attribute);
        else this.setAttribute(attribute, field.value);
      });
    }
    ui.run.addEventListener('click', () => this.#runOnce().catch(() => {}));
    ui.replay.addEventListener('click', () => this.#runOnce().catch(() => {}));
    ui.lines.parentElement.addEventListener('toggle', () => this.#timeline && this.#showLines());
    ui.stop.addEventListener('click', () => this.stop());
    ui.main.addEventListener('click', () => this.#onMainThread());
    ui.saveTrace.addEventListener('click', () => download(`${this.#scenario}.trace.json`, this.trace()));
    ui.saveRecords.addEventListener('click', () => download(`${this.#scenario}.records.json`, this.records()));
  }
}

/** Runs `change` on the budget and lets go the widgets it grants workers to. */
function release(budget, waiters, change) {
  for (const widget of change()) {
    waiters.get(widget)?.();
    waiters.delete(widget);
  }
}

function download(name, value) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(value, null, 1)], { type: 'application/json' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The timeline's colours, from the component's CSS custom properties. */
function palette(root) {
  const style = getComputedStyle(root);
  const get = (name) => style.getPropertyValue(`--wx-${name}`).trim();
  const keys = ['stripe', 'grid', 'axis-text', 'lane-title', 'queue', 'failed', 'timed-out', 'cancelled', 'bar-text', 'mark', 'selected'];
  const colours = Object.fromEntries(keys.map((k) => [k.replace(/-(\w)/g, (_, c) => c.toUpperCase()), get(k)]));
  colours.kinds = Array.from({ length: KIND_COLOURS }, (_, k) => get(`kind-${k}`));
  return colours;
}

function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** The shadow tree, built with DOM calls: nothing is parsed as HTML. */
function template() {
  const scenario = element('select', { name: 'scenario' }, ...Object.entries(SCENARIOS).map(([value, { title }]) => element('option', { value }, title)));
  const fields = Object.entries(PARAMS)
    .filter(([key]) => key !== 'url')
    .map(([key, [, label, numeric]]) => {
      const input = key === 'executor'
        ? element('select', { name: key }, element('option', { value: '' }, 'default'), element('option', { value: 'threads' }, 'threads'), element('option', { value: 'processes' }, 'processes'))
        : element('input', { name: key, type: numeric ? 'number' : 'text', min: key === 'jobs' || key === 'gets' || key === 'cpuJobs' ? 0 : 1, inputMode: 'numeric', placeholder: 'default' });
      return element('label', { className: 'field' }, element('span', {}, label), input);
    });
  const root = element(
    'div',
    { className: 'wx' },
    element(
      'div',
      { className: 'head' },
      element('strong', { className: 'title' }),
      element('span', { className: 'corner' }, element('span', { className: 'build' }), element('button', { type: 'button', className: 'replay secondary' }, 'Run')),
    ),
    element(
      'form',
      { className: 'controls' },
      element('label', { className: 'field wide' }, element('span', {}, 'scenario'), scenario),
      ...fields,
      element(
        'div',
        { className: 'buttons' },
        element('button', { type: 'button', className: 'run' }, 'Run'),
        element('button', { type: 'button', className: 'stop secondary', disabled: true }, 'Stop'),
        element('button', { type: 'button', className: 'main secondary' }, 'Run on the main thread'),
      ),
    ),
    element('p', { className: 'status', role: 'status' }),
    element(
      'div',
      { className: 'panes' },
      element('pre', { className: 'code', tabIndex: 0, ariaLabel: 'The Rust code of this scenario' }),
      element(
        'div',
        { className: 'timeline' },
        element(
          'div',
          { className: 'box' },
          element('canvas', { tabIndex: 0, role: 'img', ariaLabel: 'Timeline: a lane per worker, a bar per job, a tick per log line. Arrow keys move between jobs, + and - zoom, 0 fits, Escape clears.' }),
          element('div', { className: 'tip', role: 'tooltip', hidden: true }),
          element('div', { className: 'hint', hidden: true }, 'To zoom, hold Ctrl (⌘) while scrolling, or click the timeline first'),
        ),
        element('ul', { className: 'legend', ariaLabel: 'Legend' }),
        element('div', { className: 'heartbeat' }, element('span', { className: 'track' }, element('span', { className: 'dot' })), element('span', { className: 'gap' }, 'longest frame gap –')),
        element('details', { className: 'lines', open: true }, element('summary', {}, 'Log lines'), element('ol', { tabIndex: 0, ariaLabel: 'Log lines in view, in order' })),
      ),
    ),
    element('p', { className: 'result' }),
    element('pre', { className: 'log', ariaLabel: 'Log' }, element('code')),
    element('div', { className: 'exports' }, element('button', { type: 'button', className: 'secondary save-trace' }, 'Download trace (Perfetto, DevTools)'), element('button', { type: 'button', className: 'secondary save-records' }, 'Download records')),
    element('div', { className: 'live', ariaLive: 'polite' }),
  );
  return root;
}

function ui(shadow) {
  const root = shadow.querySelector('.wx');
  const $ = (selector) => root.querySelector(selector);
  const fields = Object.fromEntries([...root.querySelectorAll('.field [name]')].filter((f) => f.name !== 'scenario').map((f) => [f.name, f]));
  root.querySelector('form').addEventListener('submit', (e) => e.preventDefault());
  return {
    root,
    fields,
    scenario: $('[name=scenario]'),
    title: $('.title'),
    build: $('.build'),
    status: $('.status'),
    code: $('.code'),
    box: $('.box'),
    canvas: $('canvas'),
    tip: $('.tip'),
    hint: $('.hint'),
    legend: $('.legend'),
    lines: $('.lines ol'),
    linesSummary: $('.lines summary'),
    replay: $('.replay'),
    dot: $('.dot'),
    gap: $('.gap'),
    result: $('.result'),
    log: $('.log code'),
    live: $('.live'),
    run: $('.run'),
    stop: $('.stop'),
    main: $('.main'),
    saveTrace: $('.save-trace'),
    saveRecords: $('.save-records'),
  };
}

customElements.define('executor-timeline', ExecutorTimeline);
