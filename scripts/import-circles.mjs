// Fails if a crate's modules import each other in a circle: a module's `crate::…`
// paths (outside comments and its tests) are its imports, and a module that
// re-exports a child (`pub use child::*`) depends on it. Run by scripts/lint.sh.
//   node scripts/import-circles.mjs crate/library crate/showcase
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.rs') ? [join(dir, e.name)] : []));

function modules(root) {
  const byName = new Map();
  for (const file of files(root)) {
    let name = relative(root, file).slice(0, -3).replaceAll('/', '::');
    name = name === 'lib' ? 'crate' : name.replace(/::mod$/, '');
    byName.set(name, readFileSync(file, 'utf8'));
  }
  const edges = new Map();
  for (const [name, text] of byName) {
    const code = text.split('#[cfg(test)]')[0].split('\n').filter((l) => !l.trim().startsWith('//')).join('\n');
    const to = new Set();
    for (const [, path] of code.matchAll(/crate::((?:[a-z_]+::)*[a-z_]+)/g)) {
      const parts = path.split('::');
      for (let k = parts.length; k > 0; k--) {
        const candidate = parts.slice(0, k).join('::');
        if (byName.has(candidate)) {
          if (candidate !== name) to.add(candidate);
          break;
        }
      }
    }
    for (const [, child] of code.matchAll(/pub use ([a-z_]+)::\*/g)) {
      const candidate = name === 'crate' ? child : `${name}::${child}`;
      if (byName.has(candidate)) to.add(candidate);
    }
    edges.set(name, to);
  }
  return edges;
}

/** The circles: strongly connected groups of more than one module (Tarjan). */
function circles(edges) {
  let next = 0;
  const index = new Map(), low = new Map(), stack = [], onStack = new Set(), found = [];
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const group = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

let failed = false;
for (const root of process.argv.slice(2)) {
  for (const group of circles(modules(root))) {
    console.error(`import circle in ${root}: ${group.join(' <-> ')}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
