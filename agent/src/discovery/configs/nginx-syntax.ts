// nginx's config grammar, following ngx_conf_read_token: words separated by blanks, `;` ends a directive,
// `{ … }` holds a block, `#` starts a comment only at the start of a word, quotes only at the start of a
// word, `\` escapes the next character, and `${name}` keeps its braces inside a word. Parsing never stops at
// the first error: each error is recorded with its line and the parser goes on, so one typo does not hide
// every server after it.
import type { LineError } from './service-binding.js';

export interface NginxDirective {
  name: string;
  args: string[];
  line: number;
  /** The `{ … }` contents, or null for a directive ended by `;`. */
  block: NginxDirective[] | null;
}

type Token =
  | { type: 'word'; value: string; line: number }
  | { type: ';' | '{' | '}'; line: number };

export function parseNginxConfig(text: string): { directives: NginxDirective[]; errors: LineError[] } {
  const { tokens, errors } = tokenize(text);
  const root: NginxDirective[] = [];
  const open: { directive: NginxDirective | null; children: NginxDirective[] }[] = [{ directive: null, children: root }];
  let words: { value: string; line: number }[] = [];
  const current = () => open[open.length - 1];
  const take = (block: NginxDirective[] | null): NginxDirective => {
    const [first, ...rest] = words;
    words = [];
    const directive = { name: first.value, args: rest.map((w) => w.value), line: first.line, block };
    current().children.push(directive);
    return directive;
  };
  for (const token of tokens) {
    if (token.type === 'word') {
      words.push(token);
    } else if (token.type === ';') {
      if (words.length === 0) errors.push({ line: token.line, message: 'unexpected ";"' });
      else take(null);
    } else if (token.type === '{') {
      if (words.length === 0) {
        errors.push({ line: token.line, message: 'unexpected "{"' });
        // Still open a level, so the matching "}" does not close the enclosing block.
        open.push({ directive: null, children: [] });
      } else {
        const block: NginxDirective[] = [];
        open.push({ directive: take(block), children: block });
      }
    } else {
      if (words.length > 0) {
        errors.push({ line: words[0].line, message: `directive "${words[0].value}" is not terminated by ";"` });
        words = [];
      }
      if (open.length === 1) errors.push({ line: token.line, message: 'unexpected "}"' });
      else open.pop();
    }
  }
  if (words.length > 0) {
    errors.push({ line: words[0].line, message: `unexpected end of file, expecting ";" or "}" after "${words[0].value}"` });
  }
  // Blocks left open keep what they hold; the error names where each was opened.
  for (const level of open.slice(1).reverse()) {
    if (level.directive) {
      errors.push({ line: level.directive.line, message: `"${level.directive.name}" block is not closed (unexpected end of file, expecting "}")` });
    }
  }
  return { directives: root, errors };
}

function tokenize(text: string): { tokens: Token[]; errors: LineError[] } {
  const tokens: Token[] = [];
  const errors: LineError[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\n') {
      line++;
      i++;
    } else if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
    } else if (ch === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === ';' || ch === '{' || ch === '}') {
      tokens.push({ type: ch, line });
      i++;
    } else if (ch === '"' || ch === "'") {
      const start = line;
      let raw = '';
      i++;
      while (i < text.length && text[i] !== ch) {
        if (text[i] === '\\' && i + 1 < text.length) raw += text[i++];
        if (text[i] === '\n') line++;
        raw += text[i++];
      }
      if (i >= text.length) {
        errors.push({ line: start, message: 'unterminated quoted string (unexpected end of file)' });
        break;
      }
      i++;
      tokens.push({ type: 'word', value: unescape(raw), line: start });
      const next = text[i];
      if (next !== undefined && !/[\s;{})]/.test(next)) {
        errors.push({ line, message: `unexpected "${next}" after quoted string` });
      }
    } else {
      let raw = '';
      while (i < text.length) {
        const c = text[i];
        if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === ';' || c === '{') {
          // `${var}` inside a word: its brace is part of the word, not a block.
          if (c === '{' && raw.endsWith('$') && !raw.endsWith('\\$')) {
            raw += c;
            i++;
            continue;
          }
          break;
        }
        if (c === '\\' && i + 1 < text.length) {
          if (text[i + 1] === '\n') line++;
          raw += c + text[i + 1];
          i += 2;
          continue;
        }
        raw += c;
        i++;
      }
      tokens.push({ type: 'word', value: unescape(raw), line });
    }
  }
  return { tokens, errors };
}

// The escapes nginx turns into characters; any other backslash stays, as nginx keeps it.
function unescape(raw: string): string {
  return raw.replace(/\\(["'\\tnr])/g, (_match, c: string) => {
    if (c === 't') return '\t';
    if (c === 'n') return '\n';
    if (c === 'r') return '\r';
    return c;
  });
}
