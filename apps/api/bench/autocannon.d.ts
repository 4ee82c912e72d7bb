// The parts of autocannon (which ships no types) that the bench uses.
declare module 'autocannon' {
  interface Options {
    url: string;
    headers?: Record<string, string>;
    connections?: number;
    pipelining?: number;
    duration?: number;
    amount?: number;
  }
  interface Histogram {
    p50: number;
    p99: number;
    mean: number;
  }
  interface Result {
    requests: Histogram & { total: number };
    latency: Histogram;
    duration: number;
    non2xx: number;
    errors: number;
    statusCodeStats?: Record<string, { count: number }>;
  }
  interface Instance {
    stop(): void;
  }
  interface AutocannonFn {
    (options: Options, callback: (error: Error | null, result: Result) => void): Instance;
    track(instance: Instance, options?: Record<string, boolean>): void;
  }
  const autocannon: AutocannonFn;
  export default autocannon;
}
