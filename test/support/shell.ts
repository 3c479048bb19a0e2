/** Shell-line checks shared by the README and demo-printout tests. */

/** URLs (or host:port/paths) that stand outside any quotes on a shell line. */
export function unquotedUrls(line: string): string[] {
  const found: string[] = [];
  let outside = '';
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      outside += ' ';
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      outside += ' ';
      continue;
    }
    if (c === '#' && (i === 0 || line[i - 1] === ' ')) break; // a trailing comment
    outside += c;
  }
  for (const m of outside.matchAll(/(?:https?:\/\/|\b(?:localhost|127\.0\.0\.1):\d+)\S*/g)) found.push(m[0]);
  return found;
}
