/**
 * Calls of one event-loop turn gathered into one: each `take` waits (at most until the loop's
 * check phase, or until `maxBatch` are waiting) and the batch goes out as one `send`, answered in
 * the order it was given. Under a crowd the loop reads hundreds of requests per turn, so a Redis
 * script per request becomes one per turn: ioredis's per-command cost and Redis's per-call cost
 * are paid once. A failed send fails every take of its batch.
 */
export class TickBatches<In, Out> {
  private waiting: Array<{ input: In; resolve(out: Out): void; reject(err: unknown): void }> = [];
  private scheduled = false;

  constructor(
    private readonly send: (inputs: In[]) => Promise<Out[]>,
    private readonly maxBatch = 256,
  ) {}

  take(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (this.waiting.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    // A send that throws rather than rejects fails its batch the same way.
    const sent = Promise.resolve().then(() => this.send(batch.map((w) => w.input)));
    sent.then(
      (outs) => batch.forEach((w, i) => w.resolve(outs[i])),
      (err) => batch.forEach((w) => w.reject(err)),
    );
  }
}
