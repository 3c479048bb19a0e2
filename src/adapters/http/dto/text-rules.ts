/**
 * What text a client may send (class-validator decorators for bodies and queries), so that
 * what an employee's screen or a push notification shows is what the guest typed:
 * - `IsSafeText()`: no control characters (C0, DEL, C1) — a multi-line text (a message) may
 *   keep newline and tab; no lone surrogates (half an emoji: invalid UTF-16, unencodable as
 *   UTF-8); no bidirectional overrides or isolates (U+202A–U+202E, U+2066–U+2069), which
 *   make text display in another order than it reads (the "Trojan Source" trick). The
 *   message names the first offending character and where it is.
 * - `IsNotBlank()`: at least one visible character: not only whitespace (any Unicode space)
 *   or invisible format characters (zero-width spaces and joiners, U+FEFF, …).
 * Both accept non-strings silently: `@IsString()` reports those.
 */
import { ValidateBy, type ValidationOptions } from 'class-validator';

/** Bidirectional embeddings/overrides (LRE RLE PDF LRO RLO) and isolates (LRI RLI FSI PDI). */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;
/** C0 controls, DEL, C1 controls. */
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/u;
const CONTROL_EXCEPT_NEWLINE_TAB = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/u;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Whitespace (Unicode White_Space) and format characters (Cf: zero-width space/joiners, BOM, bidi marks). */
const INVISIBLE_ONLY = /^[\p{White_Space}\p{Cf}]*$/u;

const codePoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `value` is not safe text, or null when it is. */
export function unsafeTextReason(value: string, multiline: boolean): string | null {
  const lone = LONE_SURROGATE.exec(value);
  if (lone) return `contains a lone surrogate (${codePoint(lone[0])}) at index ${lone.index}`;
  const control = (multiline ? CONTROL_EXCEPT_NEWLINE_TAB : CONTROL).exec(value);
  if (control) {
    const allowed = multiline ? ' (only newline and tab are allowed)' : '';
    return `contains a control character (${codePoint(control[0])}) at index ${control.index}${allowed}`;
  }
  const bidi = BIDI_CONTROL.exec(value);
  if (bidi) return `contains a bidirectional override or isolate (${codePoint(bidi[0])}) at index ${bidi.index}`;
  return null;
}

export function IsSafeText(options: { multiline?: boolean } = {}, validationOptions?: ValidationOptions): PropertyDecorator {
  const multiline = options.multiline ?? false;
  return ValidateBy(
    {
      name: 'isSafeText',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || unsafeTextReason(value, multiline) === null,
        defaultMessage: (args) => `${args?.property ?? 'value'} ${unsafeTextReason(String(args?.value), multiline)}`,
      },
    },
    validationOptions,
  );
}

export function IsNotBlank(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isNotBlank',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !INVISIBLE_ONLY.test(value),
        defaultMessage: (args) => `${args?.property ?? 'value'} must contain a visible character, not only spaces`,
      },
    },
    validationOptions,
  );
}

/**
 * The same rules as JSON Schema patterns (ECMAScript, `u` flag), for openapi.yaml, which states
 * them on every such field so that clients (and schemathesis) know them; the query DTOs use them
 * directly (openapi.spec.ts compares the sources). Blank means only whitespace or the Basic
 * Multilingual Plane's format characters, close to `IsNotBlank`, which stays the authority.
 * Lone surrogates are left to `IsSafeText`: a pattern cannot name them portably (Rust's regex,
 * behind schemathesis' validator, has no surrogates at all).
 */
const UNSAFE = '\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069';
const INVISIBLE = '\\s\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890\\u0891\\u08E2\\u180E\\u200B-\\u200F\\u2060-\\u2064\\u206A-\\u206F\\uFEFF\\uFFF9-\\uFFFB';
/** One line of visible text: a name, a search term. */
export const SAFE_LINE_PATTERN = new RegExp(`^[^${UNSAFE}]*[^${INVISIBLE}${UNSAFE}][^${UNSAFE}]*$`, 'u');
/** An id: no spaces at all. */
export const SAFE_ID_PATTERN = new RegExp(`^[^\\s${UNSAFE}]+$`, 'u');
