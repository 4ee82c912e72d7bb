/**
 * The load generator, in its own process so it does not share the server's event loop. Receives one job over
 * IPC (so a bench key never appears on a command line), runs autocannon, sends back the figures.
 */
import autocannon from 'autocannon';

export interface LoadJob {
  url: string;
  headers: Record<string, string>;
  connections: number;
  durationSeconds?: number;
  amount?: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  statusCodes: Record<string, number>;
}

process.on('message', (job: LoadJob) => {
  const instance = autocannon(
    {
      url: job.url,
      headers: job.headers,
      connections: job.connections,
      pipelining: 1,
      ...(job.amount !== undefined ? { amount: job.amount } : { duration: job.durationSeconds ?? 5 }),
    },
    (error, result) => {
      if (error) {
        process.send?.({ error: String(error) });
        return;
      }
      const statusCodes: Record<string, number> = {};
      for (const [code, count] of Object.entries(result.statusCodeStats ?? {}))
        statusCodes[code] = count.count;
      const out: LoadResult = {
        requests: result.requests.total,
        rps: result.requests.total / (result.duration || 1),
        non2xx: result.non2xx,
        errors: result.errors,
        p50: result.latency.p50,
        p99: result.latency.p99,
        statusCodes,
      };
      process.send?.(out);
    },
  );
  autocannon.track(instance, {
    renderProgressBar: false,
    renderResultsTable: false,
    renderLatencyTable: false,
  });
});
