/** In-flight work that shutdown waits for (bounded), so acknowledged work is not cut off. */
export function createDrain() {
  const pending = new Set<Promise<unknown>>();
  return {
    track<T>(work: Promise<T>): Promise<T> {
      pending.add(work);
      work.then(
        () => pending.delete(work),
        () => pending.delete(work),
      );
      return work;
    },
    get size() {
      return pending.size;
    },
    /** Resolves true when everything finished, false when the timeout came first. */
    async wait(timeoutMs: number): Promise<boolean> {
      if (pending.size === 0) return true;
      let timer: Timer | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const done = Promise.allSettled([...pending]).then(() => true as const);
      const finished = await Promise.race([done, timeout]);
      clearTimeout(timer);
      return finished;
    },
  };
}

export type Drain = ReturnType<typeof createDrain>;
