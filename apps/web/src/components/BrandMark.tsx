/** The logo square: decoration beside the name "Crowdee", so screen readers skip it. */
export function BrandMark() {
  return (
    <span className="brand-mark" aria-hidden="true">
      C
    </span>
  );
}
