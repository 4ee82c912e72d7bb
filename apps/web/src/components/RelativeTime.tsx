import { formatDateTime, relativeTime } from '../lib/format.ts';

/** "3 days ago", with the exact time for hover and for assistive technology via `dateTime`. */
export function RelativeTime({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relativeTime(iso)}
    </time>
  );
}
