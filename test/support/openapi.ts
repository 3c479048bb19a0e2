/**
 * Helpers for checking openapi.yaml against the running app: the route list of a Fastify
 * instance, $ref resolution, and a small JSON-Schema (OpenAPI 3.0 dialect) validator for
 * response bodies — enough for the keywords openapi.yaml uses, no extra dependency.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface OpenApiDoc extends JsonObject {
  openapi: string;
  info: JsonObject;
  paths: { [path: string]: JsonObject };
  components: JsonObject;
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export function loadSpec(file: string): OpenApiDoc {
  return parse(readFileSync(file, 'utf8')) as OpenApiDoc;
}

export interface RouteKey {
  method: string;
  /** OpenAPI style: `{id}` rather than `:id`. */
  path: string;
}

export const toOpenApiPath = (fastifyPath: string) => fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
export const toFastifyPath = (openApiPath: string) => openApiPath.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');

/**
 * Parses `fastify.printRoutes({ commonPrefix: false })`: a tree whose lines are
 * `<indent>├── <segment> (GET, HEAD)`, each level indented by 4 characters, a child's full
 * path being its ancestors' segments concatenated. Lines without methods are plain prefixes.
 */
export function parseRouteTree(tree: string): Array<{ method: string; path: string }> {
  const routes: Array<{ method: string; path: string }> = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^(.*?)(?:├── |└── )(.*)$/.exec(line);
    if (!m) continue;
    const depth = [...m[1]!].length / 4;
    if (!Number.isInteger(depth)) throw new Error(`Unexpected indentation in route tree line: ${JSON.stringify(line)}`);
    let segment = m[2]!;
    let methods: string[] = [];
    const meta = /^(.*) \(([A-Z, ]+)\)$/.exec(segment);
    if (meta) {
      segment = meta[1]!;
      methods = meta[2]!.split(',').map((s) => s.trim());
    }
    stack.length = depth;
    stack.push(segment);
    const path = stack.join('');
    for (const method of methods) routes.push({ method, path });
  }
  return routes;
}

/** Every `$ref` in the document, with where it was found. */
export function collectRefs(node: Json, where = '#'): Array<{ ref: string; where: string }> {
  if (node === null || typeof node !== 'object') return [];
  if (Array.isArray(node)) return node.flatMap((n, i) => collectRefs(n, `${where}/${i}`));
  const out: Array<{ ref: string; where: string }> = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') out.push({ ref: v, where });
    else out.push(...collectRefs(v, `${where}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`));
  }
  return out;
}

/** Resolves a local JSON pointer (`#/components/schemas/X`); undefined when it points nowhere. */
export function resolvePointer(doc: Json, ref: string): Json | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: Json | undefined = doc;
  for (const raw of ref.slice(1).split('/').filter((s) => s !== '')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in (node as JsonObject))) return undefined;
    node = (node as JsonObject)[key];
  }
  return node;
}

/** Follows `$ref` chains of one node (responses, parameters, schemas). */
export function deref<T extends Json>(doc: Json, node: T): T {
  let current: Json = node;
  for (let i = 0; i < 20 && current && typeof current === 'object' && !Array.isArray(current) && typeof current.$ref === 'string'; i++) {
    const next = resolvePointer(doc, current.$ref);
    if (next === undefined) throw new Error(`Unresolvable $ref ${current.$ref}`);
    current = next;
  }
  return current as T;
}

const FORMATS: Record<string, RegExp> = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i,
};

const typeOf = (v: Json): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;

/**
 * Validates `value` against an OpenAPI 3.0 schema; returns the problems (empty when valid).
 * Supports $ref, type (+nullable), enum, required, properties, additionalProperties, items,
 * allOf/anyOf/oneOf, pattern, format (uuid, date-time), min/max(Length), minimum/maximum.
 */
export interface ValidateOptions {
  /**
   * Treat object schemas that list `properties` (and say nothing about
   * additionalProperties) as closed: an undocumented property in a response is an error.
   */
  closed?: boolean;
}

/** Property names an object schema documents, including those of its allOf members. */
function knownProperties(doc: Json, schema: Json): Set<string> {
  const s = deref(doc, schema) as JsonObject;
  const names = new Set(Object.keys((s?.properties as JsonObject | undefined) ?? {}));
  for (const sub of (s?.allOf as Json[] | undefined) ?? []) for (const n of knownProperties(doc, sub)) names.add(n);
  return names;
}

export function validate(doc: Json, schema: Json, value: Json, path = '$', options: ValidateOptions = {}, inAllOf = false): string[] {
  const s = deref(doc, schema) as JsonObject;
  if (s === null || typeof s !== 'object') return [];
  const errors: string[] = [];
  const t = typeOf(value);
  if (value === null && s.nullable === true) return [];
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  }
  if (typeof s.type === 'string') {
    const ok = s.type === t || (s.type === 'number' && t === 'integer');
    if (!ok) return [...errors, `${path}: expected ${s.type}${s.nullable ? ' or null' : ''}, got ${t}`];
  }
  for (const sub of (s.allOf as Json[] | undefined) ?? []) errors.push(...validate(doc, sub, value, path, options, true));
  if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => validate(doc, sub, value, path, options).length === 0)) {
    errors.push(`${path}: matches none of anyOf`);
  }
  if (Array.isArray(s.oneOf)) {
    const matching = s.oneOf.filter((sub) => validate(doc, sub, value, path, options).length === 0).length;
    if (matching !== 1) errors.push(`${path}: matches ${matching} of oneOf (expected exactly 1)`);
  }
  if (t === 'string') {
    const str = value as string;
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(str)) errors.push(`${path}: ${JSON.stringify(str)} does not match ${s.pattern}`);
    if (typeof s.format === 'string' && FORMATS[s.format] && !FORMATS[s.format]!.test(str)) errors.push(`${path}: ${JSON.stringify(str)} is not a ${s.format}`);
    const len = [...str].length;
    if (typeof s.maxLength === 'number' && len > s.maxLength) errors.push(`${path}: longer than ${s.maxLength}`);
    if (typeof s.minLength === 'number' && len < s.minLength) errors.push(`${path}: shorter than ${s.minLength}`);
  }
  if (t === 'integer' || t === 'number') {
    if (typeof s.minimum === 'number' && (value as number) < s.minimum) errors.push(`${path}: below ${s.minimum}`);
    if (typeof s.maximum === 'number' && (value as number) > s.maximum) errors.push(`${path}: above ${s.maximum}`);
  }
  if (t === 'array' && s.items) (value as Json[]).forEach((v, i) => errors.push(...validate(doc, s.items!, v, `${path}[${i}]`, options)));
  if (t === 'object') {
    const obj = value as JsonObject;
    for (const key of (s.required as string[] | undefined) ?? []) if (!(key in obj)) errors.push(`${path}: missing required ${key}`);
    const props = (s.properties as JsonObject | undefined) ?? {};
    const closed =
      s.additionalProperties === false ||
      (options.closed === true && !inAllOf && s.additionalProperties === undefined && (s.properties !== undefined || s.allOf !== undefined));
    const known = closed ? knownProperties(doc, s) : null;
    for (const [key, v] of Object.entries(obj)) {
      if (key in props) errors.push(...validate(doc, props[key]!, v, `${path}.${key}`, options));
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        errors.push(...validate(doc, s.additionalProperties, v, `${path}.${key}`, options));
      }
      if (known && !known.has(key)) errors.push(`${path}: undocumented property ${key}`);
    }
  }
  return errors;
}
