/**
 * Group commit: calls that arrive while the database is busy go to it together, as one statement
 * or one transaction. Both backends run the refresh compare-and-swap this way (see
 * `rotateSessions` in sqlite/store.ts and `rotate` in postgres/store.ts): one commit, one round
 * trip, one set of locks for the group instead of one per refresh. Measured in `npm run bench`:
 * on PostgreSQL the database's CPU per refresh fell from about 170 us to 50 us; on SQLite the
 * write lock and the WAL append are paid once per group.
 *
 * The group is gathered until the end of the current turn of the event loop (setImmediate), and
 * while `maxInFlight` groups are in the database. Each call gets its own result, in the order of
 * the inputs; if the group fails, every call of it fails with the same error.
 */
export class GroupCommit<Input, Result> {
  private queue: Array<{ input: Input; resolve(result: Result): void; reject(error: unknown): void }> = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    /** Runs one group; answers one result per input, in input order. */
    private readonly run: (inputs: Input[]) => Promise<Result[]>,
    private readonly limits: { maxInFlight: number; maxGroup: number },
  ) {}

  submit(input: Input): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.send();
        });
      }
    });
  }

  private send(): void {
    while (this.queue.length > 0 && this.inFlight < this.limits.maxInFlight) {
      const group = this.queue.splice(0, this.limits.maxGroup);
      this.inFlight++;
      // A run that throws synchronously fails its group like one that rejects.
      new Promise<Result[]>((resolve) => resolve(this.run(group.map((call) => call.input))))
        .then(
          (results) => {
            for (const [i, call] of group.entries()) call.resolve(results[i] as Result);
          },
          (error: unknown) => {
            for (const call of group) call.reject(error);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.send();
        });
    }
  }
}
