/**
 * 405 with `Allow` for a method a known path does not take (`DELETE /v1/conversations/{id}`),
 * instead of Fastify's 404; a path no route matches stays a 404.
 *
 * Fastify's router has no notion of 405, so: an `onRoute` hook records which methods any route
 * uses, and an `onRequest` hook — it runs for requests headed to the not-found handler too —
 * asks the router (`findRoute`, the router's own matching) which of those methods the request's
 * path has a route for. Wildcard routes (`OPTIONS *` for CORS preflights, `/docs/static/*`)
 * do not make a path known: their match carries a `*` parameter.
 *
 * Register it on the Fastify instance before any route is added (i.e. before Nest's init).
 */
import type { FastifyInstance } from 'fastify';
import { errorBody, withRequestId } from './errors.js';

export function answerMethodNotAllowed(fastify: FastifyInstance): void {
  const methods = new Set<string>();
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) methods.add(method.toUpperCase());
  });

  fastify.addHook('onRequest', (request, reply, done) => {
    if (!request.is404) {
      done();
      return;
    }
    const path = request.url.split('?', 1)[0]!;
    const allowed = [...methods].filter((method) => {
      const match = method !== request.method && fastify.findRoute({ method: method as never, url: path });
      return match && !('*' in (match.params as object));
    });
    if (allowed.length === 0) {
      done(); // unknown path: the not-found handler answers 404
      return;
    }
    const body = withRequestId(errorBody(405, `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, { code: 'method_not_allowed' }), request.id);
    void reply.status(405).header('allow', allowed.sort().join(', ')).header('content-type', 'application/json; charset=utf-8').send(body);
  });
}
