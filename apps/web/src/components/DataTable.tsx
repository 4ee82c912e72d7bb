import type { ReactNode } from 'react';

/** A column heading; `hidden` ones (a row's action buttons) are named for screen readers only. */
export type Column = string | { label: string; hidden: true };

/** The last column of a table whose rows carry buttons. */
export const ACTIONS_COLUMN: Column = { label: 'Actions', hidden: true };

interface DataTableProps {
  /** Names the table for screen readers (visually hidden: the section's heading names it on screen). */
  caption: ReactNode;
  columns: readonly Column[];
  /** The rows: `<tr>` elements, one cell per column. */
  children: ReactNode;
}

/** The settings app's table: scrolls sideways on narrow screens, with a caption and scoped column headers. */
export function DataTable({ caption, columns, children }: DataTableProps) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) =>
              typeof column === 'string' ? (
                <th scope="col" key={column}>
                  {column}
                </th>
              ) : (
                <th scope="col" key={column.label}>
                  <span className="visually-hidden">{column.label}</span>
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
