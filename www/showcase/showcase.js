// The showcase's web-executors: the library loaded with this repository's builds (the
// demo's jobs registered), and the showcase's own exports beside the library's API:
// the scenarios' runs, the timeline's canvas, the widgets' worker budget.

import { load as loadLibrary, numeric } from '../library/web-executors.js';

const builds = {
  threads: new URL('../../pkg/threads/web_executors.js', import.meta.url),
  plain: new URL('../../pkg/plain/web_executors.js', import.meta.url),
};

let loading;

/** `load()` of www/library/web-executors.js with the showcase's builds and API. (Each
 * call reaches the library's, which shares its first call's work: `devtoolsTracks` in
 * a later call still turns the tracks on.) */
export function load(options) {
  const library = loadLibrary({ ...options, builds });
  loading ??= library.then((wx) => {
    const own = wx.exports;
    return {
      ...wx,
      runScenario: own.runScenario,
      planRun: own.planRun,
      stopRun: numeric(own.stopRun, 'stopRun'),
      runOnMainThread: own.runOnMainThread,
      scenarioSource: own.scenarioSource,
      Timeline: own.Timeline,
      WorkerBudget: own.WorkerBudget,
      /** The benchmark's floor: a no-op through `rayon::spawn` (threads build only). */
      rayonSpawnNoop: own.rayonSpawnNoop,
    };
  });
  return loading;
}

export { whyNoThreads } from '../library/web-executors.js';
