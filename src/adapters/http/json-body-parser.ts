/**
 * The `application/json` body parser: Fastify's own (secure-json-parse: a `__proto__` or
 * `constructor.prototype` key is a 400), behind a single linear scan of the raw bytes that
 * rejects, before anything is parsed or validated:
 * - a body that is not a JSON object (`[]`, `"x"`, `1`, `null`): every route takes an object
 *   or nothing → 400 `body_not_object`;
 * - nesting deeper than MAX_JSON_DEPTH → 400 `body_too_deep` (3,000 levels used to overflow
 *   the stack of the validation that walks the parsed body: a 500 per request);
 * - more than MAX_JSON_KEYS keys in the whole body → 400 `body_too_many_keys`.
 * The scan keeps a counter, not a stack, so no input can make it recurse. It only looks at
 * ASCII structure bytes (`{ [ ] } : " \`), which never occur inside a multi-byte UTF-8
 * character, so it reads the Buffer as it came. Malformed JSON is left to the parser (400).
 */
import type { FastifyBodyParser, FastifyInstance, FastifyRequest } from 'fastify';

export const MAX_JSON_DEPTH = 32;
export const MAX_JSON_KEYS = 1000;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const COLON = 0x3a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A 400 in the one error shape: the ErrorFilter keeps `statusCode`, `code` and `message` of such an error. */
export class JsonBodyError extends Error {
  readonly statusCode = 400;
  constructor(
    readonly code: 'body_not_object' | 'body_too_deep' | 'body_too_many_keys',
    message: string,
  ) {
    super(message);
    this.name = 'JsonBodyError';
  }
}

const isJsonWhitespace = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

/** The first limit the body breaks, or null. Linear, no recursion. */
export function checkJsonShape(body: Uint8Array, limits = { depth: MAX_JSON_DEPTH, keys: MAX_JSON_KEYS }): JsonBodyError | null {
  let start = 0;
  // A UTF-8 byte order mark is allowed before the value (secure-json-parse strips it).
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) start = 3;
  while (start < body.length && isJsonWhitespace(body[start]!)) start++;
  if (start < body.length && body[start] !== OPEN_OBJECT) {
    return new JsonBodyError('body_not_object', 'The request body must be a JSON object');
  }
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let i = start; i < body.length; i++) {
    const byte = body[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++; // the escaped byte is never structure
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++depth > limits.depth) {
        return new JsonBodyError('body_too_deep', `The request body is nested more than ${limits.depth} levels deep`);
      }
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) depth--;
    // Outside strings, a colon only ever follows an object key.
    else if (byte === COLON && ++keys > limits.keys) {
      return new JsonBodyError('body_too_many_keys', `The request body has more than ${limits.keys} keys`);
    }
  }
  return null;
}

/** For `app.useBodyParser('application/json', { bodyLimit }, parser)`: the shape check, then Fastify's parser. */
export function jsonBodyParser(fastify: FastifyInstance): FastifyBodyParser<Buffer> {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  return (request: FastifyRequest, body: Buffer, done) => {
    const error = checkJsonShape(body);
    if (error) {
      done(error, undefined);
      return;
    }
    parse(request, body.toString('utf8'), done);
  };
}
