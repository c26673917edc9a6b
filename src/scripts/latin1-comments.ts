// The bundle's text in Latin-1, so that V8 keeps it one byte a character. V8 holds a script's
// source for as long as the script lives (lazy compilation reads it again) and stores it as
// UTF-16 when a single character is past U+00FF: three dashes and an ellipsis in comments made
// dist/server.js's 3.3 M characters 6.7 MB of heap (a heap snapshot at 10,000 live inodes).
// esbuild already escapes such characters in code (its `charset: 'ascii'` default) but writes
// comments as they are; here each one in a comment becomes ASCII of the same UTF-16 length, so
// the source map's columns stay right. Comments are found by TypeScript's parser; a character
// past U+00FF anywhere else is an error, since changing it would change the program.
import ts from 'typescript';

const LOOKALIKE: Record<string, string> = { '\u2013': '-', '\u2014': '-', '\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"', '\u2026': '.', '\u2192': '>', '\u2264': '<', '\u2265': '>' };
const PAST_LATIN1 = /[^\u0000-\u00ff]/gu;

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

/** `code` with every character past U+00FF in its comments replaced; throws for one elsewhere. */
export function latin1Comments(code: string): string {
  if (code.search(PAST_LATIN1) < 0) return code;
  const ranges = commentRanges(code);
  let r = 0;
  return code.replace(PAST_LATIN1, (ch, at: number) => {
    while (r < ranges.length && ranges[r]![1] <= at) r++;
    const inComment = r < ranges.length && ranges[r]![0] <= at;
    if (!inComment) {
      const line = code.slice(0, at).split('\n').length;
      throw new Error(`bundle: U+${ch.codePointAt(0)!.toString(16).toUpperCase()} outside a comment at line ${line}`);
    }
    // A surrogate pair is two UTF-16 units: two characters keep the columns.
    return LOOKALIKE[ch] ?? '?'.repeat(ch.length);
  });
}
