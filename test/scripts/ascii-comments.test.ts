// asciiComments: characters past U+007F become ASCII of the same UTF-16 length in comments
// only; anywhere else (strings, templates, regular expressions, identifiers) the build fails,
// since changing them would change the program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asciiComments } from '../../src/scripts/ascii-comments.js';

test('comments: each character past U+007F becomes ASCII, the length and everything else unchanged', () => {
  const code = 'const a = 1; // 5 \u2013 7 \u2026 done\n/** A \u2014 B, \u00b5s, \u00a7 2, W\u00e4rting, \u00e9t\u00e9, \u03c0 and \ud83d\ude00 */\nlet b = "x" /* \u2192 */ + `y`;\n';
  const out = asciiComments(code);
  assert.equal(out, 'const a = 1; // 5 - 7 . done\n/** A - B, us, S 2, Warting, ete, ? and ?? */\nlet b = "x" /* > */ + `y`;\n');
  assert.equal(out.length, code.length);
  assert.equal(asciiComments('let plain = "ascii"; // only ASCII'), 'let plain = "ascii"; // only ASCII');
});

test('outside a comment: an error that names the character and its line', () => {
  for (const code of ['let s = "a \u2014 b";', 'let t = `\u2026`;', 'let r = /\u2013/;', 'let u = "http://x\u2014"; // "//" in a string opens no comment',
    'const \u03c0 = 3;', 'x = 1 /\n2 / "\u2014";', 'let l = "\u00e4";', 'let m = "\u00b5s";']) {
    assert.throws(() => asciiComments(code), /^Error: bundle: U\+[0-9A-F]{4,} outside a comment at line \d+$/, code);
  }
  assert.throws(() => asciiComments('a;\nb;\nlet s = "\u2014";'), /at line 3$/);
  assert.throws(() => asciiComments('let s = "\u00e4";'), /U\+00E4/);
});
