// Files that hold keys or state: mode 0600, their directories 0700, whatever the process umask (docs/operations.md, Keys at rest).
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates `dir` and its missing parents; every directory created here gets mode 0700, set after creation so the umask
 * neither widens nor narrows it. Directories that already exist are left as they are.
 */
export function makePrivateDir(dir: string): void {
  const target = resolve(dir);
  const first = mkdirSync(target, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  for (let p = target; ; p = dirname(p)) {
    chmodSync(p, PRIVATE_DIR_MODE);
    if (p === first || p === dirname(p)) break;
  }
}

/**
 * Writes `data` to `path` with mode 0600 (set on the open descriptor, before any byte is written). `wx` (default)
 * refuses an existing file; `w` replaces its content, `a` appends to it; both tighten an existing file's mode.
 */
export function writePrivateFile(path: string, data: string | Uint8Array, flag: 'wx' | 'w' | 'a' = 'wx'): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(path, flag, PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `path` atomically with `data` (mode 0600): written and fsynced under a temporary name, renamed over `path`,
 * then the directory fsynced, so a crash leaves the old content or the new, never a torn file.
 */
export function replacePrivateFile(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${randomBytes(8).toString('hex')}`;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    const fd = openSync(tmp, 'wx', PRIVATE_FILE_MODE);
    try {
      fchmodSync(fd, PRIVATE_FILE_MODE);
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  const dir = openSync(dirname(resolve(path)), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * Tightens a tree mcim owns: every directory (`root` included) to 0700 and every regular file to 0600 where its mode
 * grants more. Symbolic links are not followed. Returns the paths whose mode changed.
 */
export function tightenPrivateTree(root: string): string[] {
  const changed: string[] = [];
  const visit = (path: string): void => {
    const st = lstatSync(path);
    const wanted = st.isDirectory() ? PRIVATE_DIR_MODE : st.isFile() ? PRIVATE_FILE_MODE : undefined;
    if (wanted === undefined) return;
    if ((st.mode & 0o777 & ~wanted) !== 0) {
      chmodSync(path, st.mode & 0o777 & wanted);
      changed.push(path);
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(resolve(root));
  return changed;
}
