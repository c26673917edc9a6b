// latin1Comments: characters past U+00FF become ASCII of the same UTF-16 length in comments
// only; anywhere else (strings, templates, regular expressions, identifiers) the build fails,
// since changing them would change the program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latin1Comments } from '../../src/scripts/latin1-comments.js';

test('comments: each character past U+00FF becomes ASCII, the length and everything else unchanged', () => {
  const code = 'const a = 1; // 5 \u2013 7 \u2026 done\n/** A \u2014 B, \u00b5s and \u00a7 stay, \ud83d\ude00 */\nlet b = "x" /* \u2192 */ + `y`;\n';
  const out = latin1Comments(code);
  assert.equal(out, 'const a = 1; // 5 - 7 . done\n/** A - B, \u00b5s and \u00a7 stay, ?? */\nlet b = "x" /* > */ + `y`;\n');
  assert.equal(out.length, code.length);
  assert.equal(latin1Comments('let plain = "\u00e4";'), 'let plain = "\u00e4";');
});

test('outside a comment: an error that names the character and its line', () => {
  for (const code of ['let s = "a \u2014 b";', 'let t = `\u2026`;', 'let r = /\u2013/;', 'let u = "http://x\u2014"; // "//" in a string opens no comment',
    'const \u03c0 = 3;', 'x = 1 /\n2 / "\u2014";']) {
    assert.throws(() => latin1Comments(code), /^Error: bundle: U\+[0-9A-F]+ outside a comment at line \d+$/, code);
  }
  assert.throws(() => latin1Comments('a;\nb;\nlet s = "\u2014";'), /at line 3$/);
});
