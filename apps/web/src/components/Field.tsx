import {
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
  useId,
} from 'react';

interface FieldShell {
  label: string;
  hint?: ReactNode;
  error?: string | null;
}

function describedBy(hintId: string | undefined, errorId: string | undefined): string | undefined {
  const ids = [hintId, errorId].filter(Boolean).join(' ');
  return ids || undefined;
}

interface FieldFrameProps extends FieldShell {
  className: string | undefined;
  control: (aria: {
    id: string;
    'aria-invalid': true | undefined;
    'aria-describedby': string | undefined;
  }) => ReactNode;
}

/** Label, hint and error around one control, bound to it by id and aria-describedby. */
function FieldFrame({ label, hint, error, className, control }: FieldFrameProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  return (
    <div className={`field${className ? ` ${className}` : ''}`}>
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      {control({
        id,
        'aria-invalid': error ? true : undefined,
        'aria-describedby': describedBy(hintId, errorId),
      })}
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

type ControlAria = Parameters<FieldFrameProps['control']>[0];

/**
 * Makes one labelled field component from a control: the label, hint and error wiring is FieldFrame's, so input,
 * textarea and select differ only in the element they render.
 */
function fieldOf<P extends { className?: string | undefined }>(
  render: (aria: ControlAria, props: Omit<P, 'className'>) => ReactNode,
) {
  return function Field({ label, hint, error, className, ...control }: FieldShell & P) {
    return (
      <FieldFrame
        label={label}
        hint={hint}
        error={error}
        className={className}
        control={(aria) => render(aria, control as unknown as Omit<P, 'className'>)}
      />
    );
  };
}

/** A labelled input with hint and error text bound through aria-describedby. */
export const TextField = fieldOf<InputHTMLAttributes<HTMLInputElement>>((aria, input) => (
  <input className="input" {...aria} {...input} />
));

/** A labelled multi-line text input. */
export const TextAreaField = fieldOf<TextareaHTMLAttributes<HTMLTextAreaElement>>((aria, textarea) => (
  <textarea className="input input-mono textarea" {...aria} {...textarea} />
));

export const SelectField = fieldOf<SelectHTMLAttributes<HTMLSelectElement>>((aria, select) => (
  <select className="select" {...aria} {...select} />
));

interface ChoiceOption<T extends string> {
  value: T;
  label: string;
  description?: ReactNode;
}

/** A fieldset of radio cards: every option visible at once, arrow keys move between them. */
export function RadioGroup<T extends string>({
  legend,
  name,
  options,
  value,
  onChange,
  hint,
  error,
}: {
  legend: string;
  name: string;
  options: ChoiceOption<T>[];
  value: T;
  onChange: (value: T) => void;
  hint?: ReactNode;
  error?: string | null;
}) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  return (
    <fieldset className="field fieldset" aria-describedby={describedBy(hintId, errorId)}>
      <legend className="field-label">{legend}</legend>
      {hint ? (
        <p id={hintId} className="field-hint field-hint-top">
          {hint}
        </p>
      ) : null}
      <div className="choice-list">
        {options.map((option) => {
          const optionId = `${id}-${option.value}`;
          // The whole card is the click target, but the radio's name is just the label; the description is
          // its description, so "Member" is not announced (or matched) as "…list members…".
          return (
            <label key={option.value} className="choice" htmlFor={optionId}>
              <input
                id={optionId}
                type="radio"
                name={name}
                value={option.value}
                checked={value === option.value}
                onChange={() => onChange(option.value)}
                aria-labelledby={`${optionId}-label`}
                aria-describedby={option.description ? `${optionId}-description` : undefined}
              />
              <span className="choice-text">
                <span id={`${optionId}-label`} className="choice-label">
                  {option.label}
                </span>
                {option.description ? (
                  <span id={`${optionId}-description`} className="choice-description">
                    {option.description}
                  </span>
                ) : null}
              </span>
            </label>
          );
        })}
      </div>
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

/**
 * The input attributes of the app's credential fields: the type, and the autocomplete token password managers
 * need to offer (or save) the right value. Spread them into a TextField beside its label.
 */
export const EMAIL = { type: 'email', autoComplete: 'username', required: true } as const;
export const NEW_EMAIL = { type: 'email', autoComplete: 'email', required: true } as const;
export const PASSWORD = { type: 'password', autoComplete: 'current-password', required: true } as const;
export const NEW_PASSWORD = { type: 'password', autoComplete: 'new-password', required: true } as const;
/** A code from an authenticator app: the numeric keyboard, and the one-time-code autofill (room for spaces). */
export const ONE_TIME_CODE = {
  inputMode: 'numeric',
  autoComplete: 'one-time-code',
  maxLength: 9,
  required: true,
} as const;
/** A recovery code: typed or pasted as it was saved, never autocorrected. */
export const RECOVERY_CODE = {
  autoComplete: 'off',
  spellCheck: false,
  maxLength: 40,
  required: true,
} as const;
/** A count: a number field with the numeric keyboard on phones (the form checks the range itself). */
export const WHOLE_NUMBER = { type: 'number', inputMode: 'numeric', className: 'field-narrow' } as const;

/** A checkbox inside its label (the whole row is the click target); `onChange` gets the new state. */
export function Checkbox({
  checked,
  onChange,
  disabled,
  children,
}: {
  checked: boolean;
  onChange: (checked: boolean) => void;
  disabled?: boolean;
  /** The label: text in a span, or richer content. */
  children: ReactNode;
}) {
  return (
    <label className="checkbox">
      <input
        type="checkbox"
        checked={checked}
        disabled={disabled}
        onChange={(event) => onChange(event.target.checked)}
      />
      {children}
    </label>
  );
}
