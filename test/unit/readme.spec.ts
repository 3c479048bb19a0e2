/**
 * The README stands on its own: links only to files in this repository, shell lines a zsh user
 * can paste (every URL quoted: an unquoted `?` or `&` is a glob or a background job there), and
 * the things a newcomer asks first (what the demo seeds, how to reset it, when AVA's ticket shows).
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { unquotedUrls } from '../support/shell.js';

const root = new URL('../../', import.meta.url).pathname;
const readme = readFileSync(root + 'README.md', 'utf8');

/** Lines of the fenced shell blocks (```bash, ```sh or unlabelled), without comment lines. */
function shellLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      fence = fence === null ? line.slice(3).trim() : null;
      continue;
    }
    if (fence !== null && ['bash', 'sh', 'zsh', ''].includes(fence) && !line.trimStart().startsWith('#')) lines.push(line);
  }
  return lines;
}

describe('README', () => {
  it('links only to files that exist in this repository', () => {
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    for (const target of targets) {
      expect(target).not.toMatch(/^(https?:|file:|\/|\.\.)/);
      if (target.startsWith('#')) continue;
      expect({ target, exists: existsSync(root + target.split('#')[0]) }).toEqual({ target, exists: true });
    }
    expect(readme).not.toMatch(/\.\.\/(shared|\.library)|\/work\//);
  });

  it('quotes every URL on its shell lines', () => {
    const lines = shellLines(readme);
    expect(lines.filter((l) => /curl /.test(l)).length).toBeGreaterThan(10);
    const offending = lines.map((line) => ({ line, unquoted: unquotedUrls(line) })).filter((l) => l.unquoted.length > 0);
    expect(offending).toEqual([]);
  });

  it('the quoting check itself catches what zsh would choke on', () => {
    expect(unquotedUrls('curl -s localhost:3000/v1/conversations?status=open -H "x"')).toEqual(['localhost:3000/v1/conversations?status=open']);
    expect(unquotedUrls('curl -s "localhost:3000/v1/conversations?status=open" # localhost:3000/x')).toEqual([]);
    expect(unquotedUrls("curl http://127.0.0.1:3000/health")).toEqual(['http://127.0.0.1:3000/health']);
  });

  it('says what the demo seeds, how to reset it, and that an AVA ticket shows up asynchronously', () => {
    expect(readme).toMatch(/### The demo: what it seeds, how to reset it/);
    expect(readme).toMatch(/rm -rf \.\/data && npm start/);
    expect(readme).toMatch(/hotel-aurora/);
    expect(readme).toMatch(/A ticket AVA opens appears asynchronously/);
    expect(readme).toMatch(/compiles nothing/);
  });
});
