// A long-running command's wait: until SIGINT or SIGTERM (or `forMs` when given), then the command closes what it opened.

/** Resolves on the first SIGINT or SIGTERM, or after `forMs` milliseconds when given; its listeners are removed then. */
export function untilStopped(forMs?: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      clearTimeout(timer);
      resolve();
    };
    const timer = forMs === undefined ? undefined : setTimeout(stop, forMs);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
