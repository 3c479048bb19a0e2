/**
 * `projections` (versions, checkpoints, lag, rebuilds) and `rebuild <name>`. A rebuild is carried
 * out by the process holding the projector lease (the running service); this command records the
 * request, as the API does, and follows its progress with a bar until the new version is live.
 */
import { SingleBar } from 'cli-progress';
import { ProjectionsService } from '../application/projections/projections.service.js';
import { DomainError } from '../domain/errors.js';
import { CliError, withCore } from './context.js';

export async function projections(options: { json?: boolean }): Promise<void> {
  await withCore(async ({ app }) => {
    const status = await app.get(ProjectionsService).status();
    if (options.json) {
      console.log(JSON.stringify(status, null, 2));
      return;
    }
    console.log(`log head: ${status.head ?? 'empty'}`);
    for (const p of status.projections) {
      const rebuild = p.rebuild ? `  rebuild ${p.rebuild.state} → v${p.rebuild.toVersion}` : '';
      console.log(`${p.name.padEnd(18)} v${p.version}  checkpoint ${p.checkpoint ?? '-'}  lag ${p.lag.events} events / ${p.lag.ms} ms${rebuild}`);
    }
  });
}

export async function rebuild(name: string, options: { wait: boolean; timeout: string }): Promise<void> {
  const timeoutMs = Number(options.timeout) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliError('--timeout must be a positive number of seconds');
  await withCore(async ({ app }) => {
    const service = app.get(ProjectionsService);
    let requested;
    try {
      requested = await service.requestRebuild(name, { employeeId: 'cli', propertyId: '*' });
    } catch (error) {
      if (error instanceof DomainError) throw new CliError(error.message);
      throw error;
    }
    console.log(`rebuild of ${name} requested: v${requested.fromVersion} → v${requested.toVersion}`);
    if (!options.wait) return;
    const bar = new SingleBar({ format: `rebuild ${name} [{bar}] {percentage}% | {state} | {eta_formatted} left`, stream: process.stderr });
    const deadline = Date.now() + timeoutMs;
    let started = false;
    for (;;) {
      const status = await service.status();
      const p = status.projections.find((x) => x.name === name)!;
      const r = p.rebuild;
      const head = Number(status.head ?? 0);
      if (r && r.id === requested.rebuildId) {
        if (!started) bar.start(Math.max(head, 1), 0, { state: r.state });
        started = true;
        bar.setTotal(Math.max(head, 1));
        bar.update(r.checkpoint === null ? (r.state === 'requested' ? 0 : head) : Number(r.checkpoint), { state: r.state });
        if (r.state === 'failed') {
          bar.stop();
          throw new CliError(`rebuild failed: ${r.error ?? 'unknown error'}`);
        }
        if (r.state === 'switched' || r.state === 'done') {
          bar.update(head, { state: r.state });
          bar.stop();
          console.log(`${name} is live at v${r.toVersion}`);
          return;
        }
      }
      if (Date.now() > deadline) {
        if (started) bar.stop();
        throw new CliError(`no result within ${options.timeout} s: is a process with the projector role running? (the request stays recorded)`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });
}
