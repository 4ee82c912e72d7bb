import { useState } from 'react';

type CopyState = 'idle' | 'copied' | 'manual';

/**
 * Copies a one-time secret to the clipboard. When the browser refuses (permissions, insecure context),
 * `selectForManualCopy` selects it on the page instead, and the status says to press the shortcut.
 */
export function useCopy(text: string, selectForManualCopy: () => void) {
  const [state, setState] = useState<CopyState>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      selectForManualCopy();
      setState('manual');
    }
  };
  return { state, copy, label: state === 'copied' ? 'Copied' : 'Copy' };
}

/** The copy's outcome, read out politely; `what` names the selection: "The key is selected…". */
export function CopyStatus({ state, what }: { state: CopyState; what: 'key' | 'codes' }) {
  const manual =
    what === 'key'
      ? 'The key is selected: press Ctrl+C (⌘C on a Mac) to copy it.'
      : 'The codes are selected: press Ctrl+C (⌘C on a Mac) to copy them.';
  return (
    <output className="field-hint" aria-live="polite">
      {state === 'copied' ? 'Copied to the clipboard.' : state === 'manual' ? manual : ''}
    </output>
  );
}
