import { type ChangeEvent, type ComponentType, type ReactNode, useState } from 'react';
import { fieldError, formLevelError } from '../lib/errors.ts';
import { FormFooter } from './Dialog.tsx';
import { ErrorNotice } from './ErrorNotice.tsx';

interface FormProps {
  onSubmit: () => void;
  className?: string;
  /**
   * The submission's error. Errors the API attached to fields show under those fields (`fieldError`); the form
   * shows the rest above its actions, unless `showAllErrors` (a form whose fields carry no API errors).
   */
  error: unknown;
  showAllErrors?: boolean;
  /** What failed, e.g. "Couldn’t change the password". */
  errorContext: string;
  /** Shows the error; a form whose submission also runs a browser prompt (a passkey) explains that prompt's failures. */
  errorNotice?: ComponentType<{ error: unknown; context: string }>;
  children: ReactNode;
  /** The submit button and whatever sits beside it, after the error. */
  actions: ReactNode;
  'aria-label'?: string;
}

/**
 * The one submit → error → actions pattern of the app's forms: validation is ours (noValidate, the API answers
 * with field errors), the page never reloads, and an error nobody's field shows appears above the buttons.
 */
export function Form({
  onSubmit,
  className,
  error,
  showAllErrors = false,
  errorContext,
  errorNotice: Notice = CompactErrorNotice,
  children,
  actions,
  'aria-label': ariaLabel,
}: FormProps) {
  const shown = showAllErrors ? error : formLevelError(error);
  return (
    <form
      className={className}
      aria-label={ariaLabel}
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
      noValidate
    >
      {children}
      {shown ? <Notice error={shown} context={errorContext} /> : null}
      {actions}
    </form>
  );
}

function CompactErrorNotice({ error, context }: { error: unknown; context: string }) {
  return <ErrorNotice error={error} compact context={context} />;
}

/** A form's submit button: disabled and relabelled while the submission is in flight. */
export function SubmitButton({
  pending,
  label,
  pendingLabel,
  variant = 'primary',
  block = false,
}: {
  pending: boolean;
  label: string;
  pendingLabel: string;
  variant?: 'primary' | 'secondary';
  block?: boolean;
}) {
  return (
    <button
      type="submit"
      className={`button button-${variant}${block ? ' button-block' : ''}`}
      disabled={pending}
    >
      {pending ? pendingLabel : label}
    </button>
  );
}

/**
 * A form's text values, named as the API's input names them, so the values go to the mutation as they are and
 * the API's field errors find their field: `field('email')` binds one TextField, TextAreaField or SelectField (value, onChange, error).
 */
export function useFormFields<T extends Record<string, string>>(initial: T, error: unknown) {
  const [values, setValues] = useState(initial);
  const set = (patch: Partial<T>) => setValues((current) => ({ ...current, ...patch }));
  /** `localError`: the form's own check of this field, shown before the API's. */
  const field = (name: keyof T & string, localError: string | null = null) => ({
    value: values[name],
    onChange: (event: ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) =>
      set({ [name]: event.target.value } as Partial<T>),
    error: localError ?? fieldError(error, name),
  });
  return { values, set, field };
}

/**
 * A dialog's form: fields, then the error, then Cancel and submit (both off while the submission is pending).
 * `mutation` is the submission (its error and whether it is in flight).
 */
export function DialogForm({
  mutation,
  onCancel,
  submit: [submitLabel, pendingLabel],
  ...form
}: Omit<FormProps, 'actions' | 'className' | 'error'> & {
  mutation: { error: unknown; isPending: boolean };
  onCancel: () => void;
  /** The submit button's label, and its label while pending: ['Rotate key', 'Rotating…']. */
  submit: [string, string];
}) {
  return (
    <Form
      className="form-stack"
      error={mutation.error}
      actions={
        <FormFooter
          onCancel={onCancel}
          pending={mutation.isPending}
          submitLabel={submitLabel}
          pendingLabel={pendingLabel}
        />
      }
      {...form}
    />
  );
}
