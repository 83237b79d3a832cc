/**
 * Crash-safe writes of private files (the peer-id file, the config file, backup archives): a temp
 * file in the same folder, mode 0600 whatever the umask, synced, then moved into place in one
 * step, and the folder synced. A crash leaves the old file or the new one, never a torn file
 * under the real name.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Write `data` to `path` (mode 0600). Without `replace`, the move is a `link`, which refuses to
 * replace an existing file atomically; with it, a `rename`, which replaces atomically.
 * @returns false when `path` exists and `replace` is false (nothing written), else true
 */
export async function writePrivateFile(
  path: string,
  data: string | Uint8Array,
  opts: { replace: boolean }
): Promise<boolean> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.chmod(0o600); // the umask cannot widen it, but be explicit
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    if (opts.replace) {
      await rename(tmp, path);
    } else {
      try {
        await link(tmp, path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        // Filesystems without hard links: check, then rename (atomic, but may race another writer).
        if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP'].includes(code ?? '')) throw err;
        if (await exists(path)) return false;
        await rename(tmp, path);
      }
    }
  } finally {
    await rm(tmp, { force: true });
  }
  await syncDir(dirname(path));
  return true;
}

/** Whether `path` exists; errors other than "not found" (e.g. permissions) are thrown. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    }
  );
}

/** fsync a folder so a new entry survives a crash (best effort: not every OS allows it). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // not supported here; the file itself is synced
  }
}
