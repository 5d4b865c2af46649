// A JavaScript module of jobs, as a page would give one to a ProcessPoolExecutor: each
// exported function is a job, called by its name.

export function add(a, b) {
  return a + b;
}

/** Blocks its worker for `ms`, then says where it ran. */
export function spin(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return { ms, worker: self.name };
}

export function echo(value) {
  return value;
}

export function throws(message) {
  throw new RangeError(message);
}

/** A function cannot be cloned to the page. */
export function givesAFunction() {
  return () => 1;
}

export async function isAsync() {
  return 1;
}
