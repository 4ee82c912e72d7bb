/**
 * What `crowdee items upload` sends, read from disk: the files of a folder (or one file), or the text items of
 * a JSON Lines file. Only paths and sizes are held up front; file bytes are read batch by batch as they go out,
 * so a folder of 10,000 files never sits in memory at once.
 */
import { type Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative, sep } from 'node:path';
import { UsageError } from './common.ts';

export interface FileEntry {
  kind: 'file';
  externalId: string;
  /** The file's name (what the server stores as the item's name). */
  name: string;
  path: string;
  size: number;
  mediaType: string;
}

export interface TextEntry {
  kind: 'text';
  externalId: string;
  text: string;
  /** Bytes the item adds to a JSON request body (UTF-8 of its JSON, about). */
  size: number;
}

export type UploadEntry = FileEntry | TextEntry;

export interface InvalidLine {
  line: number;
  problem: string;
}

export interface UploadSource {
  kind: 'files' | 'text';
  entries: UploadEntry[];
  /** JSON Lines input only: lines that are not an item; they count as failed. */
  invalid: InvalidLine[];
}

/** Common types by extension; the server stores what we send, and anything else is octet-stream. */
const MEDIA_TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
};

export function mediaTypeOf(path: string): string {
  return MEDIA_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

function walk(root: string): FileEntry[] {
  const entries: FileEntry[] = [];
  const visit = (dir: string): void => {
    let children: Dirent[];
    try {
      children = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      throw new UsageError(`cannot read ${dir}: ${(error as Error).message}`);
    }
    for (const child of children) {
      const path = join(dir, child.name);
      // Symbolic links are not followed: they can loop or point outside the folder being uploaded.
      if (child.isDirectory() && !SKIPPED_DIRS.has(child.name)) visit(path);
      else if (child.isFile()) {
        // The externalId is the path inside the folder, with forward slashes on every platform.
        const externalId = relative(root, path).split(sep).join('/');
        entries.push({
          kind: 'file',
          externalId,
          name: child.name,
          path,
          size: statSync(path).size,
          mediaType: mediaTypeOf(path),
        });
      }
    }
  };
  visit(root);
  // A stable order: the same folder uploads in the same order on every run and every machine.
  return entries.sort((a, b) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0));
}

function readJsonl(path: string): UploadSource {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const entries: UploadEntry[] = [];
  const invalid: InvalidLine[] = [];
  text.split('\n').forEach((raw, i) => {
    if (!raw.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      invalid.push({ line: i + 1, problem: 'not valid JSON' });
      return;
    }
    if (
      typeof value !== 'object' ||
      value === null ||
      !('externalId' in value) ||
      !('text' in value) ||
      typeof value.externalId !== 'string' ||
      typeof value.text !== 'string'
    ) {
      invalid.push({ line: i + 1, problem: 'expected an object with string "externalId" and "text"' });
      return;
    }
    const { externalId, text: itemText } = value;
    entries.push({
      kind: 'text',
      externalId,
      text: itemText,
      size: Buffer.byteLength(JSON.stringify({ externalId, text: itemText })) + 1,
    });
  });
  return { kind: 'text', entries, invalid };
}

export function readUploadSource(path: string): UploadSource {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (isDirectory) return { kind: 'files', entries: walk(path), invalid: [] };
  if (extname(path).toLowerCase() === '.jsonl') return readJsonl(path);
  const size = statSync(path).size;
  const name = basename(path);
  return {
    kind: 'files',
    entries: [{ kind: 'file', externalId: name, name, path, size, mediaType: mediaTypeOf(path) }],
    invalid: [],
  };
}

/**
 * Splits entries into batches of at most `maxItems` and, past the first item of a batch, at most `maxBytes`:
 * what the API accepts in one request.
 */
export function batchEntries<T extends { size: number }>(
  entries: T[],
  maxItems: number,
  maxBytes: number,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (current.length > 0 && (current.length >= maxItems || bytes + entry.size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
