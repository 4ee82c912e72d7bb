import { useId, useRef } from 'react';
import { useSession } from '../../app/session.tsx';
import { CopyStatus, useCopy } from '../../components/Copy.tsx';
import { Dialog, DialogFooter } from '../../components/Dialog.tsx';
import { formatDate, formatDateTime, relativeTime, roleLabel } from '../../lib/format.ts';
import type { ApiKey } from '../../lib/trpc.ts';
import { scopeLabel } from './key-display.tsx';

interface RevealKeyDialogProps {
  secret: string;
  apiKey: ApiKey;
  /** Set after a rotation: the key it replaced, whose `revokedAt` says when it stops. */
  replaced?: ApiKey;
  onClose: () => void;
}

/**
 * The one time the full key is in the page. It lives in the parent's state only while this panel is open;
 * closing drops it, and nothing else (table, cache, reload) can bring it back.
 */
export function RevealKeyDialog({ secret, apiKey, replaced, onClose }: RevealKeyDialogProps) {
  const { organizations } = useSession();
  const inputRef = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const warningId = useId();
  const copy = useCopy(secret, () => inputRef.current?.select());

  const replacedStops = replaced?.revokedAt ?? null;

  return (
    <Dialog title="New API key" onClose={onClose} size="medium">
      <div className="reveal">
        {replaced ? (
          <p className="reveal-context">
            “{replaced.name}” was rotated. The old key <code className="key-hint">{replaced.hint}</code>{' '}
            {replacedStops && new Date(replacedStops).getTime() > Date.now() + 60_000 ? (
              <>
                keeps working until{' '}
                <time dateTime={replacedStops} title={formatDateTime(replacedStops)}>
                  {formatDateTime(replacedStops)}
                </time>{' '}
                ({relativeTime(replacedStops)}).
              </>
            ) : (
              'has stopped working.'
            )}
          </p>
        ) : null}
        <div id={warningId} className="notice notice-warning">
          <svg className="notice-icon" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true">
            <path
              d="M10 2.5l8 14H2l8-14z"
              fill="none"
              stroke="currentColor"
              strokeWidth="1.5"
              strokeLinejoin="round"
            />
            <path d="M10 8v4" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
            <circle cx="10" cy="14.5" r="0.9" fill="currentColor" />
          </svg>
          <div className="notice-content">
            <p className="notice-title">Copy this key now. It will not be shown again.</p>
            <p className="notice-message">
              We store only a hash of it. If you lose it, rotate the key or create a new one.
            </p>
          </div>
        </div>
        <div className="field">
          <label htmlFor={inputId} className="field-label">
            Secret key
          </label>
          <div className="secret-row">
            <input
              ref={inputRef}
              id={inputId}
              className="input input-mono"
              value={secret}
              readOnly
              spellCheck={false}
              autoComplete="off"
              aria-describedby={warningId}
              onFocus={(e) => e.currentTarget.select()}
            />
            <button type="button" className="button button-primary" onClick={copy.copy} data-autofocus>
              {copy.label}
            </button>
          </div>
          <CopyStatus state={copy.state} what="key" />
        </div>
        <dl className="summary-list">
          <div>
            <dt>Name</dt>
            <dd>{apiKey.name}</dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>{roleLabel(apiKey.role)}</dd>
          </div>
          <div>
            <dt>Organizations</dt>
            <dd>{scopeLabel(apiKey.scope, organizations)}</dd>
          </div>
          <div>
            <dt>Expires</dt>
            <dd>{apiKey.expiresAt ? formatDate(apiKey.expiresAt) : 'Never'}</dd>
          </div>
        </dl>
        <p className="form-note">
          Send it in the <code>Authorization</code> header: <code>Authorization: Bearer &lt;key&gt;</code>.
          Never put it in a URL.
        </p>
      </div>
      <DialogFooter>
        <button type="button" className="button button-secondary" onClick={onClose}>
          Done
        </button>
      </DialogFooter>
    </Dialog>
  );
}
