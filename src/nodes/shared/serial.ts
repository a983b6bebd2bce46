/**
 * Runs jobs one after another: a node's runs never overlap (a poll tick that
 * finds a run in progress is dropped; input messages queue up). `stop` aborts
 * the current job and waits for it to settle, for the node's `close` handler.
 */
export class SerialRunner {
  private tail: Promise<void> = Promise.resolve();
  private running = 0;
  private controller = new AbortController();

  get busy(): boolean {
    return this.running > 0;
  }

  run<T>(job: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.running += 1;
    const result = this.tail.then(() => {
      this.controller.signal.throwIfAborted();
      return job(this.controller.signal);
    });
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    void this.tail.then(() => {
      this.running -= 1;
    });
    return result;
  }

  async stop(): Promise<void> {
    this.controller.abort(new Error("node closed"));
    await this.tail;
    this.controller = new AbortController();
  }
}
