/**
 * The virtual clock's agenda: a binary min-heap ordered by (time, insertion order), so events
 * at the same instant fire in the order they were scheduled and a run never depends on heap
 * internals.
 */
export interface Scheduled<E> {
  atMs: number;
  seq: number;
  event: E;
}

export class EventQueue<E> {
  private heap: Scheduled<E>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(atMs: number, event: E): void {
    const item = { atMs, seq: this.seq++, event };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(item, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = item;
  }

  peekTime(): number | undefined {
    return this.heap[0]?.atMs;
  }

  pop(): Scheduled<E> | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

function before<E>(x: Scheduled<E>, y: Scheduled<E>): boolean {
  return x.atMs < y.atMs || (x.atMs === y.atMs && x.seq < y.seq);
}
