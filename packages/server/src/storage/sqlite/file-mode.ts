import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Owner read and write only: the file holds every store's sessions, users and signing keys. */
const FILE_MODE = 0o600;

/**
 * Creates the database file owner-only before SQLite opens it. SQLite creates the `-wal` and
 * `-shm` files with the mode of the database file, so they follow. A file left readable by others
 * by an older version is narrowed too, with its `-wal` and `-shm`, when this process owns them.
 */
export function prepareDatabaseFile(path: string): void {
  if (path === ':memory:') return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', FILE_MODE));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      const stat = statSync(file);
      if ((stat.mode & 0o077) !== 0 && stat.uid === process.getuid?.()) chmodSync(file, FILE_MODE);
    } catch {
      // Missing (no -wal yet) or not ours: nothing to narrow.
    }
  }
}
