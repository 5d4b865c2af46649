// Types of www/library/web-executors.js: Python's executor API with camelCase names.

/** Seconds, as Python's `timeout`; `null` or absent for no limit. */
export type Seconds = number | null;

export type JobState = 'PENDING' | 'RUNNING' | 'FINISHED' | 'CANCELLED';

/**
 * Errors carry Python's class name in `name`: `CancelledError`, `TimeoutError`,
 * `BrokenThreadPool`, `BrokenProcessPool`, `ValueError`, `TypeError`, `RuntimeError`,
 * `PicklingError`, or `JobError` for a job's own failure.
 */
export type PythonErrorName =
  | 'CancelledError'
  | 'TimeoutError'
  | 'BrokenThreadPool'
  | 'BrokenProcessPool'
  | 'ValueError'
  | 'TypeError'
  | 'RuntimeError'
  | 'PicklingError'
  | 'JobError';

export interface JobRecord {
  id: number;
  run: number;
  label: string;
  executor: string;
  /** A thread's name, a process worker's pid, or `MainThread`. */
  worker: string | null;
  state: JobState;
  /** How it ended, once it has: decided when it settled. */
  outcome: 'ok' | 'failed' | 'panicked' | 'timedOut' | 'cancelled' | 'workerDied' | null;
  submitted: number;
  started: number | null;
  finished: number | null;
  result: string | null;
  error: string | null;
  note: string | null;
}

/** A submitted job, Python's `Future`: await it (it is a thenable) for the result. */
export interface Job<T = unknown> extends PromiseLike<T> {
  readonly id: number;
  readonly label: string;
  readonly state: JobState;
  /** The worker that took it (a thread's name, a process id), once one did. */
  readonly worker: string | undefined;
  cancel(): boolean;
  cancelled(): boolean;
  running(): boolean;
  done(): boolean;
  /** `result(timeout)`: rejects with the job's error, or `TimeoutError`. */
  result(options?: { timeout?: Seconds }): Promise<T>;
  /** `exception(timeout)`: the job's error, or null if it returned a value. */
  exception(options?: { timeout?: Seconds }): Promise<Error | null>;
  /** `add_done_callback(fn)`: once, in the order added; at once if already done. */
  addDoneCallback(fn: (job: Job<T>) => void): void;
  /** Resolves when a worker takes the job. */
  started(): Promise<void>;
  record(): JobRecord;
  catch(onRejected?: (error: Error) => unknown): Promise<unknown>;
  free(): void;
}

/** Async-iterable, and awaitable for all the items as an array. */
export interface AsyncIterableAwaitable<T> extends AsyncIterableIterator<T>, PromiseLike<T[]> {}

export interface ShutdownOptions {
  wait?: boolean;
  cancelFutures?: boolean;
}

export interface MapOptions {
  /** Process pools: this many items travel to one worker in one message. Left out, the
   * pool picks it: at least 32 chunks per worker, at most 256 items each (Python's
   * default is 1). */
  chunksize?: number;
  /** From the call: a result not ready by then throws `TimeoutError`. */
  timeout?: Seconds;
}

interface Executor {
  readonly name: string;
  readonly maxWorkers: number;
  readonly workersAlive: number;
  /** Thread names, or process ids. */
  readonly workers: string[];
  submit<T = unknown>(name: string, ...args: unknown[]): Job<T>;
  /** Results in input order; an error at item k is thrown when iteration reaches k. */
  map<T = unknown>(name: string, items: Iterable<unknown>, options?: MapOptions): AsyncIterableAwaitable<T>;
  shutdown(options?: ShutdownOptions): Promise<void>;
  records(): JobRecord[];
  free(): void;
}

export interface ThreadPoolOptions {
  maxWorkers?: number;
  threadNamePrefix?: string;
  /** A registered job each worker runs as it starts; if it fails the pool is broken. */
  initializer?: string;
  initargs?: unknown[];
}

export interface ProcessPoolOptions {
  maxWorkers?: number;
  maxTasksPerChild?: number;
  initializer?: string;
  initargs?: unknown[];
  /** Seconds a job may run before its worker is terminated. */
  jobTimeout?: Seconds;
  /** The URL of a JavaScript module whose exported (synchronous) functions are the jobs. */
  module?: string | URL;
}

export interface ThreadPoolExecutor extends Executor {}
export interface ProcessPoolExecutor extends Executor {
  /** Terminates process `pid`: the jobs handed to it fail with `BrokenProcessPool`. */
  killWorker(pid: number): boolean;
}

export type ReturnWhen = 'FIRST_COMPLETED' | 'FIRST_EXCEPTION' | 'ALL_COMPLETED';

export interface WebExecutors {
  readonly build: 'threads' | 'plain';
  readonly threadsAvailable: boolean;
  readonly whyNoThreads: string | null;
  ThreadPoolExecutor: new (options?: ThreadPoolOptions) => ThreadPoolExecutor;
  ProcessPoolExecutor: new (options?: ProcessPoolOptions) => ProcessPoolExecutor;
  runInExecutor<T = unknown>(executor: Executor | null, name: string, ...args: unknown[]): Job<T>;
  toThread<T = unknown>(name: string, ...args: unknown[]): Job<T>;
  /** Each job in `done` or `notDone` once; a timeout does not reject. */
  wait<T = unknown>(jobs: Iterable<Job<T>>, options?: { returnWhen?: ReturnWhen; timeout?: Seconds }): Promise<{ done: Job<T>[]; notDone: Job<T>[] }>;
  /** Each distinct job once, as it completes; a timeout throws `TimeoutError` after them. */
  asCompleted<T = unknown>(jobs: Iterable<Job<T>>, options?: { timeout?: Seconds }): AsyncIterableAwaitable<Job<T>>;
  gather(jobs: Iterable<Job>, options?: { returnExceptions?: boolean }): Promise<unknown[]>;
  records(): JobRecord[];
  logLines(from?: number): string[];
  logLinesByProcess(from?: number): string[];
  clearRecords(): void;
  jobNames(): string[];
  liveWorkers(): string[];
  heapInUse(): number;
}

/** The URLs of a program's two wasm-bindgen builds: threaded, and plain. */
export interface Builds {
  threads: string | URL;
  plain: string | URL;
}

export function load(options: { builds: Builds; workers?: number; threads?: boolean; devtoolsTracks?: boolean }): Promise<WebExecutors>;
export function whyNoThreads(): string | null;
