// The harness the engine contract suites share (store, telemetry, field samples, rollouts, leases): every
// case runs on a fresh back end from the suite's `open`, released after the case whether it passed or threw.

/** What a suite's `open` gives: something to test, and how to release it. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * `const withStore = freshEach(open, (h) => h.store)`, then `it('…', withStore(async (s) => { … }))`:
 * `pick` chooses what a case body is handed from what `open` gave.
 */
export function freshEach<H extends Closable, A>(open: () => Promise<H>, pick: (opened: H) => A) {
  return (body: (a: A) => Promise<void>) => async (): Promise<void> => {
    const opened = await open();
    try {
      await body(pick(opened));
    } finally {
      await opened.close();
    }
  };
}
