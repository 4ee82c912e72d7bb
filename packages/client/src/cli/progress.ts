/**
 * Progress of a long command on stderr: a bar drawn by cli-progress when stderr is a terminal (it redraws in
 * place and clears its line, so nothing stray is left behind), plain lines otherwise (CI logs, pipes, tests).
 * Rate and ETA are measured on wall time since the command started, so time spent waiting for the rate limit
 * is part of them, and a pause in progress adds its remaining length to the ETA.
 */
import cliProgress from 'cli-progress';
import { formatDuration } from './common.ts';

export interface ProgressState {
  /** Finished so far, including what an earlier, interrupted run already did. */
  done: number;
  total: number;
  failed: number;
  /** Wall-clock ms when a rate-limit pause ends, while one is on. */
  pausedUntil?: number | null | undefined;
}

export class ProgressDisplay {
  readonly #label: string;
  readonly #bar: cliProgress.SingleBar | null;
  readonly #startedAt = performance.now();
  #startDone: number | undefined;

  /** Plain lines (no terminal) at most this often, plus the last one; 0 prints every update. */
  readonly #plainEveryMs: number;
  #lastPlain = 0;

  constructor(label: string, options: { tty?: boolean; plainEveryMs?: number } = {}) {
    const tty = options.tty ?? process.stderr.isTTY === true;
    this.#label = label;
    this.#plainEveryMs = options.plainEveryMs ?? 0;
    this.#bar = tty
      ? new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${label} {bar} {value}/{total} {percentage}% | {rate}/s | ETA {etaText} | {failed} failed{waiting}`,
            hideCursor: true,
            clearOnComplete: false,
            // Redraw a few times a second, not on every item: a terminal is slow to write to.
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  update(state: ProgressState): void {
    if (this.#startDone === undefined) {
      this.#startDone = state.done;
      this.#bar?.start(state.total, state.done, this.#payload(state));
    } else if (this.#bar) {
      this.#bar.setTotal(state.total);
      this.#bar.update(state.done, this.#payload(state));
    }
    if (this.#bar) return;
    const now = performance.now();
    if (now - this.#lastPlain < this.#plainEveryMs && state.done < state.total) return;
    this.#lastPlain = now;
    process.stderr.write(`${this.#line(state)}\n`);
  }

  /** Ends the bar's line so the summary starts on a fresh one. */
  stop(): void {
    this.#bar?.stop();
  }

  #numbers(state: ProgressState) {
    const elapsedMs = performance.now() - this.#startedAt;
    const sessionDone = state.done - (this.#startDone ?? state.done);
    const rate = elapsedMs > 0 ? (sessionDone * 1000) / elapsedMs : 0;
    const remaining = Math.max(0, state.total - state.done);
    const waitMs = state.pausedUntil ? Math.max(0, state.pausedUntil - Date.now()) : 0;
    const etaMs = remaining === 0 ? 0 : rate > 0 ? (remaining * 1000) / rate + waitMs : undefined;
    return { rate, etaMs, waitMs };
  }

  #payload(state: ProgressState) {
    const { rate, etaMs, waitMs } = this.#numbers(state);
    return {
      rate: rate.toFixed(1),
      etaText: formatDuration(etaMs),
      failed: state.failed,
      waiting: waitMs > 0 ? ` | waiting ${formatDuration(waitMs)} for the rate limit` : '',
    };
  }

  #line(state: ProgressState): string {
    const p = this.#payload(state);
    const pct = state.total > 0 ? Math.floor((state.done / state.total) * 100) : 100;
    return `${this.#label} ${state.done}/${state.total} ${pct}% | ${p.rate}/s | ETA ${p.etaText} | ${p.failed} failed${p.waiting}`;
  }
}
