// The bundle's text in ASCII, so that V8 keeps it one byte a character. V8 holds a script's
// source for as long as the script lives (lazy compilation reads it again), and a source held
// as UTF-16 costs twice: dist/server.js's 3.3 M characters were 6.7 MB of heap at 10,000 live
// inodes (heap snapshots). Node 20 keeps a UTF-8 source one byte a character while every
// character fits Latin-1; Node 26 decodes it to UTF-16 as soon as one is past U+007F (a
// "µs" or a "§" in a comment did it: a 3.6 MB module took 3.6 MB of heap as ASCII, 7.2 MB
// with one "µ" in a comment, measured on 26.12.1).
// esbuild already escapes such characters in code (its `charset: 'ascii'` default) but writes
// comments as they are; here each one in a comment becomes ASCII of the same UTF-16 length, so
// the source map's columns stay right. Comments are found by TypeScript's parser; a character
// past U+007F anywhere else is an error, since changing it would change the program.
import ts from 'typescript';

const LOOKALIKE: Record<string, string> = { '\u2013': '-', '\u2014': '-', '\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"', '\u2026': '.',
  '\u2192': '>', '\u2264': '<', '\u2265': '>', '\u00a7': 'S', '\u00b5': 'u', '\u00d7': 'x', '\u00a0': ' ' };
const NON_ASCII = /[^\u0000-\u007f]/gu;

/** [start, end) of every comment in `code`, sorted. */
function commentRanges(code: string): [number, number][] {
  const file = ts.createSourceFile('bundle.js', code, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const seen = new Set<number>();
  const out: [number, number][] = [];
  const add = (ranges: ts.CommentRange[] | undefined) => {
    for (const r of ranges ?? []) if (!seen.has(r.pos)) { seen.add(r.pos); out.push([r.pos, r.end]); }
  };
  // Every comment is trivia that starts where some node starts (leading) or ends (trailing).
  const visit = (node: ts.Node) => {
    add(ts.getLeadingCommentRanges(code, node.pos));
    add(ts.getTrailingCommentRanges(code, node.end));
    ts.forEachChild(node, visit);
  };
  visit(file);
  add(ts.getLeadingCommentRanges(code, file.endOfFileToken.pos));
  return out.sort((a, b) => a[0] - b[0]);
}

/** One character of a comment in ASCII: a lookalike, the letter under an accent (ä: a), or '?'. */
function asciiOf(ch: string): string {
  const known = LOOKALIKE[ch];
  if (known) return known;
  const base = ch.normalize('NFD')[0]!;
  // A surrogate pair is two UTF-16 units: two characters keep the columns.
  return ch.length === 1 && base.charCodeAt(0) < 0x80 ? base : '?'.repeat(ch.length);
}

/** `code` with every character past U+007F in its comments replaced; throws for one elsewhere. */
export function asciiComments(code: string): string {
  if (code.search(NON_ASCII) < 0) return code;
  const ranges = commentRanges(code);
  let r = 0;
  return code.replace(NON_ASCII, (ch, at: number) => {
    while (r < ranges.length && ranges[r]![1] <= at) r++;
    const inComment = r < ranges.length && ranges[r]![0] <= at;
    if (!inComment) {
      const line = code.slice(0, at).split('\n').length;
      throw new Error(`bundle: U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} outside a comment at line ${line}`);
    }
    return asciiOf(ch);
  });
}
