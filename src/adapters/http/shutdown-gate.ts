/**
 * Once the process starts shutting down (App.close), requests that arrive on connections
 * still open get `503 shutting_down` with `Connection: close` and `Retry-After: 1`, in the
 * one error shape; answers to requests already in flight also carry `Connection: close`.
 * Without that, a keep-alive connection that goes idle after the HTTP server began closing
 * holds the close (Node closes idle connections only when close() starts) until its
 * keep-alive timeout. Fastify's own `return503OnClosing` only applies once its close() runs,
 * after the Nest shutdown hooks, and answers in another shape.
 */
import type { FastifyInstance } from 'fastify';
import { errorBody, withRequestId } from './errors.js';

export class ShutdownGate {
  private shuttingDown = false;

  get closing(): boolean {
    return this.shuttingDown;
  }

  /** Registers the hooks; call before the app is ready. */
  install(fastify: FastifyInstance): void {
    fastify.addHook('onRequest', (request, reply, done) => {
      if (!this.shuttingDown) return done();
      const body = withRequestId(errorBody(503, 'The service is shutting down; retry in a moment', { code: 'shutting_down' }), request.id);
      void reply.status(503).header('connection', 'close').header('retry-after', '1').send(body);
    });
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (this.shuttingDown) void reply.header('connection', 'close');
      done(null, payload);
    });
  }

  close(): void {
    this.shuttingDown = true;
  }
}
