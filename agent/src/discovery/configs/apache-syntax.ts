// Apache httpd's config grammar: one directive per line, `\` at the end of a line continues it (even a
// comment), `#` starts a comment only as the first thing on a line, arguments are words or "quoted"/'quoted'
// strings (a backslash escapes the quote inside them), and `<Section args>` … `</Section>` nest, closing in
// the file that opened them. Names are case-insensitive, so they come out lower-cased. Errors are recorded
// with their line and parsing goes on.
import type { LineError } from './service-binding.js';

export interface ApacheNode {
  /** Lower-cased directive or section name. */
  name: string;
  args: string[];
  line: number;
  /** A section's contents; null for a plain directive. */
  children: ApacheNode[] | null;
}

export function parseApacheConfig(text: string): { nodes: ApacheNode[]; errors: LineError[] } {
  const errors: LineError[] = [];
  const root: ApacheNode[] = [];
  const open: { node: ApacheNode; children: ApacheNode[] }[] = [];
  const current = () => (open.length > 0 ? open[open.length - 1].children : root);
  for (const { text: content, line } of logicalLines(text)) {
    const trimmed = content.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (trimmed.startsWith('</')) {
      closeSection(trimmed, line, open, errors);
      continue;
    }
    let body = trimmed;
    const section = trimmed.startsWith('<');
    if (section) {
      if (!trimmed.endsWith('>')) {
        errors.push({ line, message: `section "${trimmed.split(/\s/)[0]}" lacks its closing ">"` });
        continue;
      }
      body = trimmed.slice(1, -1);
    }
    const words = splitWords(body);
    if ('error' in words) {
      errors.push({ line, message: words.error });
      continue;
    }
    const [name, ...args] = words.words;
    if (name === undefined) continue;
    const node: ApacheNode = { name: name.toLowerCase(), args, line, children: section ? [] : null };
    current().push(node);
    if (node.children) open.push({ node, children: node.children });
  }
  for (const { node } of open.reverse()) {
    errors.push({ line: node.line, message: `<${node.name}> section is not closed (unexpected end of file)` });
  }
  return { nodes: root, errors };
}

function closeSection(trimmed: string, line: number, open: { node: ApacheNode }[], errors: LineError[]): void {
  const name = trimmed.slice(2).replace(/>$/, '').trim().toLowerCase();
  const top = open[open.length - 1];
  if (top?.node.name === name) {
    open.pop();
    return;
  }
  const at = open.map((o) => o.node.name).lastIndexOf(name);
  if (at === -1) {
    errors.push({ line, message: `</${name}> without matching <${name}> section` });
    return;
  }
  // Close the inner sections left open too, so the rest of the file lands where it belongs.
  for (const { node } of open.splice(at).slice(1).reverse()) {
    errors.push({ line: node.line, message: `<${node.name}> section is not closed before </${name}> on line ${line}` });
  }
}

/** Physical lines joined at a trailing backslash, each with the number of its first line. */
function logicalLines(text: string): { text: string; line: number }[] {
  const lines = text.split('\n');
  const out: { text: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let content = lines[i].replace(/\s+$/, '');
    while (content.endsWith('\\') && i + 1 < lines.length) {
      content = content.slice(0, -1) + ' ' + lines[++i].replace(/\s+$/, '');
    }
    out.push({ text: content, line });
  }
  return out;
}

function splitWords(text: string): { words: string[] } | { error: string } {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      let word = '';
      i++;
      while (i < text.length && text[i] !== quote) {
        if (text[i] === '\\' && text[i + 1] === quote) i++;
        word += text[i++];
      }
      if (i >= text.length) return { error: 'unterminated quoted string' };
      i++;
      words.push(word);
    } else {
      const start = i;
      while (i < text.length && !/\s/.test(text[i])) i++;
      words.push(text.slice(start, i));
    }
  }
  return { words };
}
