// A one-line progress display on stderr for long runs, without a dependency. RecoverDeliveries does not
// say how many deliveries a range holds, so it counts what is done instead of filling towards a total.
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface Progress {
  update(text: string): void;
  /** Clears the line, so what follows starts clean. */
  done(): void;
}

const silent: Progress = { update() {}, done() {} };

/** On a terminal only: a pipe or a file gets nothing, so logs and --json stay clean. */
export function progressOn(stream: NodeJS.WriteStream, enabled: boolean): Progress {
  if (!enabled || stream.isTTY !== true) return silent;
  let frame = 0;
  let shown = false;
  return {
    update(text) {
      const width = Math.max(20, (stream.columns || 80) - 1);
      stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${text}`.slice(0, width + 8));
      shown = true;
    },
    done() {
      if (shown) stream.write("\r\x1b[2K");
    },
  };
}
