/**
 * DATA_DIR holds the embedded store and the demo's secrets, so it is private to the service's
 * user: the directory 0700, every file in it 0600. SQLite creates a database's -wal and -shm
 * files with the database file's mode, so each database file is created 0600 before SQLite
 * opens it. An existing directory or file with looser modes is tightened, and the caller
 * logs what was tightened (one warning each); one we may not chmod (another owner) is
 * reported the same way and left as it is.
 *
 * A data file that cannot be used (not a database, corrupt, a directory, unreadable) stops
 * start-up with a DataFileError naming the file and DATA_DIR: one line, no stack (main.ts).
 */
import { type Stats, chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const DATA_DIR_MODE = 0o700;
export const DATA_FILE_MODE = 0o600;

export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly dataDir: string,
    reason: string,
  ) {
    super(`Cannot use ${file} (DATA_DIR=${dataDir}): ${reason}`);
    this.name = 'DataFileError';
  }
}

/** Creates DATA_DIR (0700) or checks it; tightens it and the files in it. Returns one warning per path it changed or could not. */
export function prepareDataDir(dataDir: string): string[] {
  const warnings: string[] = [];
  tighten(dataDir, ensureDataDir(dataDir).mode, DATA_DIR_MODE, warnings);
  for (const name of readdirSync(dataDir)) {
    const file = join(dataDir, name);
    const fileStat = statSync(file, { throwIfNoEntry: false });
    if (fileStat?.isFile()) tighten(file, fileStat.mode, DATA_FILE_MODE, warnings);
  }
  return warnings;
}

/** Creates DATA_DIR (0700, parents too) unless it exists; a DataFileError if it is not a directory. */
export function ensureDataDir(dataDir: string): Stats {
  try {
    mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  } catch (error) {
    throw new DataFileError(dataDir, dataDir, reasonOf(error));
  }
  const stat = statSync(dataDir);
  if (!stat.isDirectory()) throw new DataFileError(dataDir, dataDir, 'it exists and is not a directory');
  return stat;
}

/**
 * Opens one data file with `open` (an adapter's constructor): created 0600 first if missing,
 * and any failure becomes a DataFileError naming the file and DATA_DIR.
 */
export function openDataFile<T>(file: string, dataDir: string, open: (file: string) => T): T {
  try {
    if (!existsSync(file)) closeSync(openSync(file, 'a', DATA_FILE_MODE));
    else if (statSync(file).isDirectory()) throw new DataFileError(file, dataDir, 'it is a directory, not a database file');
    return open(file);
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    throw new DataFileError(file, dataDir, reasonOf(error));
  }
}

function tighten(path: string, mode: number, wanted: number, warnings: string[]): void {
  if ((mode & 0o777 & ~wanted) === 0) return;
  const from = (mode & 0o777).toString(8).padStart(4, '0');
  const to = wanted.toString(8).padStart(4, '0');
  try {
    chmodSync(path, wanted);
    warnings.push(`${path} was mode ${from}: tightened to ${to} (DATA_DIR holds the event log and secrets)`);
  } catch (error) {
    warnings.push(`${path} is mode ${from} and could not be tightened to ${to}: ${reasonOf(error)}`);
  }
}

/** What went wrong, in words: SQLite's message ("file is not a database") or the system call's. */
function reasonOf(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (e?.code === 'EEXIST' || e?.code === 'ENOTDIR') return 'it (or a parent) exists and is not a directory';
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return `permission denied (${e.message})`;
  return e?.message ?? String(error);
}
