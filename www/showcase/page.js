// The demo page: one full <executor-timeline>, kept in step with the address bar so
// that a link reproduces a run: ?scenario=NAME&workers=3&jobs=6 selects and sets it,
// and &run starts it on load. Once a run starts, the address keeps `run` until a
// control changes, so a link copied after a run repeats that run. Each job is also an
// entry on its worker's track in Chrome DevTools' Performance panel.
import './executor-timeline.js';
import { load } from './showcase.js';

load({ devtoolsTracks: true }).catch(() => {}); // the widget says what went wrong

/** The element's attributes that are the page's own, not a run's. */
const NOT_IN_LINKS = ['id', 'compact', 'autoplay', 'devtools-tracks'];

const demo = document.querySelector('#demo');
const query = new URLSearchParams(location.search);
for (const name of demo.constructor.observedAttributes) {
  if (!NOT_IN_LINKS.includes(name) && query.has(name)) demo.setAttribute(name, query.get(name));
}
if (query.has('run')) demo.setAttribute('autoplay', '');

let ran = query.has('run');
const follow = () => {
  const link = new URLSearchParams();
  for (const { name, value } of demo.attributes) {
    if (!NOT_IN_LINKS.includes(name)) link.set(name, value);
  }
  history.replaceState(null, '', `?${[link, ran ? 'run' : ''].filter(String).join('&')}`);
};
new MutationObserver(() => {
  ran = false;
  follow();
}).observe(demo, { attributes: true });
demo.addEventListener('runstart', () => {
  ran = true;
  follow();
});
