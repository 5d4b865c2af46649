// The demo page: one full <executor-timeline>, kept in step with the address bar so
// that a link reproduces a run: ?scenario=NAME&workers=3&jobs=6 selects and sets it,
// and &run starts it on load.
import './executor-timeline.js';

const demo = document.querySelector('#demo');
const query = new URLSearchParams(location.search);
for (const name of demo.constructor.observedAttributes) {
  if (name !== 'compact' && name !== 'autoplay' && query.has(name)) demo.setAttribute(name, query.get(name));
}
if (query.has('run')) demo.setAttribute('autoplay', '');

new MutationObserver(() => {
  const link = new URLSearchParams();
  for (const { name, value } of demo.attributes) {
    if (name !== 'id' && name !== 'autoplay') link.set(name, value);
  }
  history.replaceState(null, '', `?${link}`);
}).observe(demo, { attributes: true });
