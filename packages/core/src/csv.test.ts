import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvCell, parseCsv, toCsv } from './csv.ts';

describe('csvCell', () => {
  it('neutralises cells a spreadsheet would run as a formula', () => {
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
  });

  it('quotes commas, quotes, line breaks and edge spaces, and leaves plain text alone', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(' pad')).toBe('" pad"');
    expect(csvCell('key.created')).toBe('key.created');
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
  });
});

describe('toCsv', () => {
  it('round-trips any text, and no cell of the output starts a formula', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: 3, maxLength: 3 }), {
          maxLength: 8,
        }),
        (rows) => {
          const parsed = parseCsv(toCsv(['a', 'b', 'c'], rows));
          expect(parsed).toHaveLength(rows.length + 1);
          rows.forEach((row, i) => {
            row.forEach((value, j) => {
              const cell = parsed[i + 1]?.[j] ?? '';
              expect(/^[=+\-@\t\r]/.test(cell)).toBe(false);
              // What was neutralised differs by exactly the leading apostrophe.
              expect(cell === value || cell === `'${value}`).toBe(true);
            });
          });
        },
      ),
    );
  });
});
