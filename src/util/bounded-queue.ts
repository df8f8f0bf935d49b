/**
 * A first-in first-out queue between one producer and one consumer, holding at most `capacity`
 * items: `push` waits while it is full, so a fast producer cannot run ahead of a slow consumer.
 * `fail` ends it for both sides with an error; `close` ends it after what was pushed.
 */
export class BoundedQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private spaceWaiters: (() => void)[] = [];
  private itemWaiter: (() => void) | undefined;
  private closed = false;
  private failure: { error: unknown } | undefined;

  constructor(private readonly capacity: number) {}

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.failure) await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    if (this.failure) throw this.failure.error;
    if (this.closed) throw new Error('push after close');
    this.items.push(item);
    this.wakeConsumer();
  }

  close(): void {
    this.closed = true;
    this.wakeConsumer();
  }

  fail(error: unknown): void {
    this.failure ??= { error };
    this.wakeConsumer();
    for (const wake of this.spaceWaiters.splice(0)) wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      const item = this.items.shift();
      if (item !== undefined) {
        this.spaceWaiters.shift()?.();
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.itemWaiter = resolve));
    }
  }

  private wakeConsumer(): void {
    const wake = this.itemWaiter;
    this.itemWaiter = undefined;
    wake?.();
  }
}
