// prom-client metrics for the hot paths (every RPC, every attempt), where prom-client's own cached
// children still cost about a microsecond each (each inc or observe validates its labels and builds
// a hash string): here a child is a number (or a bucket array) bumped in place, and prom-client gets
// the totals when it is scraped. Its registry still does the exposition.
import { Counter, type Registry } from "prom-client";

export interface Inc {
  inc(): void;
}
export interface Observe {
  observe(value: number): void;
}

class CountCell implements Inc {
  n = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(): void {
    this.n++;
  }
}

/** A prom-client Counter whose children count locally; what they counted is added at each scrape. */
export class HotCounter {
  private readonly cells: CountCell[] = [];
  private readonly counter: Counter<string>;

  constructor(registry: Registry, name: string, help: string, labelNames: string[]) {
    const cells = this.cells;
    this.counter = new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const c of cells) {
          if (c.n === 0) continue;
          this.inc(c.labels, c.n);
          c.n = 0;
        }
      },
    });
  }

  /** Made once per label set and kept by the caller; the series shows 0 from the start. */
  child(labels: Record<string, string>): Inc {
    const cell = new CountCell(labels);
    this.cells.push(cell);
    this.counter.inc(labels, 0);
    return cell;
  }
}

class BucketCell implements Observe {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

/**
 * A histogram registered with a prom-client Registry (it implements the metric interface the
 * registry reads: name, help, type, get()) and exposed exactly as prom-client's own Histogram.
 */
export class HotHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly cells: BucketCell[] = [];

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {
    registry.registerMetric(this as never);
  }

  child(labels: Record<string, string>): Observe {
    const cell = new BucketCell(labels, this.bounds);
    this.cells.push(cell);
    return cell;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> } {
    const values = [];
    for (const c of this.cells) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.counts[i]!;
        values.push({ labels: { le: this.bounds[i]!, ...c.labels }, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { le: "+Inf", ...c.labels }, value: c.count, metricName: `${this.name}_bucket` });
      values.push({ labels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: c.labels, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
