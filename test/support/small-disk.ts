/**
 * A real, small filesystem for storage-fault tests: a tmpfs of a few MB mounted on a fresh
 * directory. `fill()` writes a ballast file until the kernel answers ENOSPC (every byte taken:
 * SQLite then gets a genuine SQLITE_FULL), `free()` deletes it again.
 *
 * Mounting needs root with CAP_SYS_ADMIN (what the tests and CI run as here). If it is not
 * possible, `mountSmallDisk` throws, naming why: the tests that need it fail loudly rather than
 * pass without having tested anything.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Takes every free byte (a ballast file); returns how many bytes it took. */
  fill(): number;
  /** Removes the ballast. */
  free(): void;
  freeBytes(): number;
  unmount(): void;
}

export function mountSmallDisk(sizeMb: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'lct-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`Cannot mount a ${sizeMb} MB tmpfs on ${dir} (storage-fault tests need root with CAP_SYS_ADMIN): ${stderr || String(error)}`);
  }
  const ballast = join(dir, 'ballast');
  const freeBytes = () => {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  };
  return {
    dir,
    freeBytes,
    fill() {
      const fd = openSync(ballast, 'a');
      let taken = 0;
      try {
        // Big chunks first, then smaller ones down to a byte: nothing is left over.
        for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 8, 1]) {
          const chunk = Buffer.alloc(size);
          for (;;) {
            try {
              taken += writeSync(fd, chunk);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw error;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return taken;
    },
    free() {
      rmSync(ballast, { force: true });
    },
    unmount() {
      try {
        unlinkSync(ballast);
      } catch {
        /* not there */
      }
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
