/**
 * Serialises operations per key (a VM id or name): two requests on one VM never interleave,
 * while different VMs proceed in parallel.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  async with<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.#tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  isBusy(key: string): boolean {
    return this.#tails.has(key);
  }
}
