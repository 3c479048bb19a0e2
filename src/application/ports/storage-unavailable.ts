/**
 * A store could not do its job for a reason that is not the request's fault and should pass:
 * the disk is full, the data directory is read-only, an I/O error, the file stayed locked
 * past its timeout, the server is unreachable. Nothing of the failed write was kept (a
 * transaction either commits whole or not at all), so the same request may simply be retried
 * later: HTTP answers 503 `storage_unavailable` with Retry-After, and AVA retries the reply it
 * could not write instead of skipping it. Adapters translate their own errors into this one.
 */
export class StorageUnavailableError extends Error {
  readonly code = 'storage_unavailable';

  constructor(
    /** Which store: `eventStore`, `readModels`, … (as /health/ready names them). */
    readonly store: string,
    /** The store's own reason, e.g. `SQLITE_FULL`. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${store} unavailable (${reason})`, options);
    this.name = 'StorageUnavailableError';
  }
}

export const isStorageUnavailable = (error: unknown): error is StorageUnavailableError => error instanceof StorageUnavailableError;
