/**
 * `crowdee scan`: finds leaked Crowdee API keys and session tokens in files, offline. Candidates come from `findKeys` in @crowdee/core
 * (shape + CRC-32 checksum), so a look-alike is never reported. Findings carry the key's hint only: a scan's
 * output lands in CI logs, which must not become a second leak.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FoundKey, type FoundSecretKind, findKeys, keyHint } from '@crowdee/core';

/** A line holding this marker is not reported: for published test vectors, never for real keys. */
export const ALLOW_MARKER = 'crowdee-scan:allow';
/** Folders that hold other people's code or git's own objects, never ours to fix. */
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);
const MAX_FILE_BYTES = 50 * 1024 * 1024;

export interface Finding {
  path: string;
  /** An API key (`cdk_`) or a session token (`cds_`, which lives an hour at most but acts for its user until then). */
  kind: FoundSecretKind;
  line: number;
  column: number;
  hint: string;
}

export interface ScanResult {
  findings: Finding[];
  /** The keys themselves, for --report only: never printed. */
  keys: string[];
  filesScanned: number;
  skipped: { path: string; reason: string }[];
}

function lineAt(text: string, found: FoundKey): string {
  const start = text.lastIndexOf('\n', found.index) + 1;
  const end = text.indexOf('\n', found.index);
  return text.slice(start, end === -1 ? text.length : end);
}

/** The findings in one text (a file's content or stdin), minus lines marked as allowed. */
export function scanText(text: string, path: string, result: ScanResult): void {
  result.filesScanned++;
  for (const found of findKeys(text)) {
    if (lineAt(text, found).includes(ALLOW_MARKER)) continue;
    result.findings.push({
      path,
      kind: found.kind,
      line: found.line,
      column: found.column,
      hint: keyHint(found.key),
    });
    result.keys.push(found.key);
  }
}

function scanPath(path: string, result: ScanResult): void {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch (error) {
    result.skipped.push({ path, reason: (error as NodeJS.ErrnoException).code ?? 'unreadable' });
    return;
  }
  // Symbolic links are not followed: their targets are scanned where they live, and loops are impossible.
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path).sort()) {
      if (SKIPPED_DIRS.has(entry)) continue;
      scanPath(join(path, entry), result);
    }
    return;
  }
  if (!stat.isFile()) return;
  if (stat.size > MAX_FILE_BYTES) {
    result.skipped.push({ path, reason: `larger than ${MAX_FILE_BYTES / 1024 / 1024} MB` });
    return;
  }
  // latin1 maps every byte to one character, so keys are found in binary files too (keys are ASCII).
  scanText(readFileSync(path).toString('latin1'), path, result);
}

export function scanPaths(paths: string[], stdin?: () => string): ScanResult {
  const result: ScanResult = { findings: [], keys: [], filesScanned: 0, skipped: [] };
  for (const path of paths) {
    if (path === '-') {
      if (stdin) scanText(stdin(), '(stdin)', result);
    } else {
      scanPath(path, result);
    }
  }
  return result;
}
