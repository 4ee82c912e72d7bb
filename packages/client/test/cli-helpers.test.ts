/** The CLI's pure helpers: CSV escaping, batching by count and bytes, shell quoting of the resume command. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../src/cli/common.ts';
import { csvField, csvRow } from '../src/cli/csv.ts';
import { batchEntries } from '../src/cli/upload-source.ts';

describe('csv', () => {
  it('quotes what RFC 4180 needs quoted and doubles quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvRow(['a', 'b,c'])).toBe('a,"b,c"\r\n');
  });

  it('guards fields a spreadsheet would run as a formula', () => {
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('=a,b')).toBe(`"'=a,b"`);
  });
});

describe('batchEntries', () => {
  const sized = (sizes: number[]) => sizes.map((size, i) => ({ i, size }));

  it('cuts at the item count and at the byte budget, keeping order and every item', () => {
    const entries = sized(Array.from({ length: 25 }, () => 10));
    const byCount = batchEntries(entries, 10, 1_000);
    expect(byCount.map((b) => b.length)).toEqual([10, 10, 5]);
    const byBytes = batchEntries(entries, 100, 35);
    expect(byBytes.every((b) => b.reduce((n, e) => n + e.size, 0) <= 35)).toBe(true);
    expect(byBytes.flat()).toEqual(entries);
  });

  it('sends an item larger than the budget alone rather than never', () => {
    expect(batchEntries(sized([5, 100, 5]), 10, 50).map((b) => b.map((e) => e.size))).toEqual([
      [5],
      [100],
      [5],
    ]);
  });
});

describe('shellQuote', () => {
  it('round-trips any argument through a POSIX shell', () => {
    const args = ['plain', 'with space', "it's", '$HOME', 'a"b', '`x`', '', 'dir/file-1.txt', '*'];
    const printed = execFileSync('sh', ['-c', `printf '%s\\n' ${args.map(shellQuote).join(' ')}`], {
      encoding: 'utf8',
    });
    expect(printed.split('\n').slice(0, -1)).toEqual(args);
  });
});
