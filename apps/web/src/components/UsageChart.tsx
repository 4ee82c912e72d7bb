import { dailyTotals, HOUR_MS, type UsageCounts } from '@crowdee/core/usage';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface UsageHourPoint extends UsageCounts {
  hour: string;
}

interface UsageChartProps {
  hours: UsageHourPoint[];
  from: string;
  to: string;
  /** One point per day (30-day views) or per hour (a day or a week). */
  bucket: 'day' | 'hour';
  /** A line for the limit, in requests per bucket (the organization's budget scaled to the bucket). */
  limitPerBucket?: number | null;
  label: string;
}

const SERIES: { key: keyof UsageCounts; label: string; stroke: string }[] = [
  { key: 'ok', label: '2xx', stroke: '#2563eb' },
  { key: 'clientError', label: '4xx', stroke: '#d97706' },
  { key: 'rateLimited', label: '429', stroke: '#dc2626' },
  { key: 'serverError', label: '5xx', stroke: '#7c3aed' },
];

/** Columns for uPlot: x in seconds, then one array per outcome (and the limit line). */
function columns(props: UsageChartProps): uPlot.AlignedData {
  const from = new Date(props.from);
  const to = new Date(props.to);
  const points =
    props.bucket === 'day'
      ? dailyTotals(
          props.hours.map((h) => ({ hour: Date.parse(h.hour), counts: h })),
          from,
          to,
        ).map((d) => ({ at: d.day, counts: d.counts }))
      : hourly(props.hours, from, to);
  const xs = points.map((p) => p.at / 1000);
  const data: (number | null)[][] = SERIES.map((s) => points.map((p) => p.counts[s.key]));
  if (props.limitPerBucket) data.push(points.map(() => props.limitPerBucket ?? null));
  return [xs, ...data];
}

function hourly(hours: UsageHourPoint[], from: Date, to: Date) {
  const byHour = new Map(hours.map((h) => [Date.parse(h.hour), h]));
  const out: { at: number; counts: UsageCounts }[] = [];
  const first = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS;
  for (let at = first; at < to.getTime(); at += HOUR_MS) {
    const h = byHour.get(at);
    out.push({
      at,
      counts: h
        ? { ok: h.ok, clientError: h.clientError, rateLimited: h.rateLimited, serverError: h.serverError }
        : { ok: 0, clientError: 0, rateLimited: 0, serverError: 0 },
    });
  }
  return out;
}

/**
 * Requests over time by outcome, drawn by uPlot on a canvas (no inline scripts or styles the CSP would refuse).
 * The canvas is described for screen readers by `label` and the totals printed beside every chart.
 */
export function UsageChart(props: UsageChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const width = Math.max(320, el.clientWidth);
    const series: uPlot.Series[] = [
      {},
      ...SERIES.map((s) => ({
        label: s.label,
        stroke: s.stroke,
        width: 2,
        fill: s.key === 'ok' ? 'rgba(37, 99, 235, 0.08)' : undefined,
        points: { show: props.bucket === 'day' },
      })),
    ];
    if (props.limitPerBucket) series.push({ label: 'Limit', stroke: '#6b7280', dash: [6, 4], width: 1.5 });
    const plot = new uPlot(
      {
        width,
        height: 220,
        series,
        scales: { x: { time: true } },
        axes: [{}, { size: 56 }],
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
      },
      columns(props),
      el,
    );
    const onResize = () => plot.setSize({ width: Math.max(320, el.clientWidth), height: 220 });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.destroy();
    };
  }, [props]);
  return <div ref={ref} className="usage-chart" role="img" aria-label={props.label} />;
}

/** Seven days at a glance for a table row: plain SVG, one polyline, no library. */
export function Sparkline({ days, label }: { days: number[]; label: string }) {
  const max = Math.max(1, ...days);
  const w = 84;
  const h = 22;
  const step = days.length > 1 ? w / (days.length - 1) : w;
  const points = days.map((d, i) => `${(i * step).toFixed(1)},${(h - 2 - (d / max) * (h - 4)).toFixed(1)}`);
  return (
    <svg className="sparkline" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      <polyline points={points.join(' ')} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

export function totalRequests(c: UsageCounts): number {
  return c.ok + c.clientError + c.rateLimited + c.serverError;
}
