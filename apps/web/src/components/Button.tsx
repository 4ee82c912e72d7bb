import type { ButtonHTMLAttributes } from 'react';

type Variant = 'primary' | 'secondary' | 'danger' | 'danger-quiet' | 'ghost';

/**
 * The app's action button (type="button": submitting is SubmitButton's job). `small` for buttons in table rows,
 * card footers and banners; `wide` spans both columns of a row's action grid.
 */
export function Button({
  variant = 'secondary',
  small = false,
  wide = false,
  className,
  ...button
}: Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'type'> & {
  variant?: Variant;
  small?: boolean;
  wide?: boolean;
}) {
  const classes = [
    'button',
    `button-${variant}`,
    small && 'button-small',
    wide && 'row-action-wide',
    className,
  ];
  return <button type="button" className={classes.filter(Boolean).join(' ')} {...button} />;
}
