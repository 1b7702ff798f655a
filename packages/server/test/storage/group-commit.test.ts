import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/storage/group-commit.js';

/** A run that records its groups and finishes when the test says so. */
function controlledRun() {
  const groups: number[][] = [];
  const finish: Array<() => void> = [];
  const run = (inputs: number[]) => {
    groups.push(inputs);
    return new Promise<number[]>((resolve) => finish.push(() => resolve(inputs.map((n) => n * 10))));
  };
  return { groups, finish, run };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('sends the calls of one turn of the event loop as one group, answering each its own result', async () => {
    const { groups, finish, run } = controlledRun();
    const commit = new GroupCommit(run, { maxInFlight: 1, maxGroup: 100 });
    const answers = [1, 2, 3].map((n) => commit.submit(n));
    await turn();
    expect(groups).toEqual([[1, 2, 3]]);
    finish[0]?.();
    expect(await Promise.all(answers)).toEqual([10, 20, 30]);
  });

  it('gathers the calls made while a group is in flight into the next group', async () => {
    const { groups, finish, run } = controlledRun();
    const commit = new GroupCommit(run, { maxInFlight: 1, maxGroup: 100 });
    const first = commit.submit(1);
    await turn();
    const later = [2, 3].map((n) => commit.submit(n));
    await turn();
    const last = commit.submit(4);
    await turn();
    expect(groups).toEqual([[1]]);
    finish[0]?.();
    expect(await first).toBe(10);
    await turn();
    expect(groups).toEqual([[1], [2, 3, 4]]);
    finish[1]?.();
    expect(await Promise.all([...later, last])).toEqual([20, 30, 40]);
  });

  it('keeps up to maxInFlight groups running, each at most maxGroup long', async () => {
    const { groups, run } = controlledRun();
    const commit = new GroupCommit(run, { maxInFlight: 2, maxGroup: 2 });
    for (const n of [1, 2, 3, 4, 5]) void commit.submit(n);
    await turn();
    expect(groups).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('fails every call of a failed group, whether the run rejects or throws, and goes on', async () => {
    let attempt = 0;
    const commit = new GroupCommit<number, number>(
      (inputs) => {
        attempt++;
        if (attempt === 1) throw new Error('thrown');
        if (attempt === 2) return Promise.reject(new Error('rejected'));
        return Promise.resolve(inputs);
      },
      { maxInFlight: 1, maxGroup: 100 },
    );
    const thrown = [1, 2].map((n) => commit.submit(n));
    for (const call of thrown) await expect(call).rejects.toThrow('thrown');
    const rejected = [3, 4].map((n) => commit.submit(n));
    for (const call of rejected) await expect(call).rejects.toThrow('rejected');
    expect(await commit.submit(5)).toBe(5);
  });
});
