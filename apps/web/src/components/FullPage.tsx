import { BrandMark } from './BrandMark.tsx';
import { ErrorNotice, type RetryableError } from './ErrorNotice.tsx';
import { Loading } from './Status.tsx';

/** A whole-page loading state, for before the app knows who is signed in or where. */
export function FullPageLoading({ label }: { label: string }) {
  return (
    <div className="page-center">
      <Loading label={label} />
    </div>
  );
}

/** A whole-page failure with a retry, for when nothing else can be shown. */
export function FullPageError({ error, onRetry, context }: RetryableError) {
  return (
    <div className="page-center">
      <main className="center-card">
        <h1 className="center-card-title">
          <BrandMark />
          Crowdee
        </h1>
        <ErrorNotice error={error} onRetry={onRetry} context={context} />
      </main>
    </div>
  );
}
