// HAProxy's config grammar (cfgparse's parse_line): one keyword per line, words split on blanks, `#` starts
// a comment outside quotes, `\` escapes the next character (`\xNN` a byte), "double quotes" group words and
// expand environment variables, 'single quotes' group words literally, and quotes may join a word's parts.
// A line starting with a section keyword opens a section that runs to the next one.
import type { LineError } from './service-binding.js';

export interface HaproxyWord {
  value: string;
  /** Holds a "$VAR" HAProxy would expand from its environment, which the agent cannot know. */
  usesVariable: boolean;
}

export interface HaproxyLine {
  line: number;
  words: HaproxyWord[];
}

export interface HaproxySection {
  /** "global", "frontend", "listen", … */
  kind: string;
  name: string | null;
  line: number;
  lines: HaproxyLine[];
}

const SECTION_KEYWORDS = new Set([
  'global', 'defaults', 'frontend', 'backend', 'listen', 'resolvers', 'peers', 'userlist', 'program', 'mailers',
  'http-errors', 'ring', 'cache', 'log-forward', 'fcgi-app', 'crt-store', 'traces',
]);

export function parseHaproxyConfig(text: string): { sections: HaproxySection[]; errors: LineError[] } {
  const sections: HaproxySection[] = [];
  const errors: LineError[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const parsed = splitHaproxyLine(raw);
    if ('error' in parsed) {
      errors.push({ line, message: parsed.error });
      return;
    }
    const words = parsed.words;
    if (words.length === 0) return;
    if (SECTION_KEYWORDS.has(words[0].value)) {
      sections.push({ kind: words[0].value, name: words[1]?.value ?? null, line, lines: [] });
    } else if (sections.length === 0) {
      errors.push({ line, message: `"${words[0].value}" outside any section` });
    } else {
      sections[sections.length - 1].lines.push({ line, words });
    }
  });
  return { sections, errors };
}

export function splitHaproxyLine(text: string): { words: HaproxyWord[] } | { error: string } {
  const words: HaproxyWord[] = [];
  let word: HaproxyWord | null = null;
  let quote: '"' | "'" | null = null;
  const append = (chars: string) => {
    word ??= { value: '', usesVariable: false };
    word.value += chars;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote === "'") {
      if (ch === "'") quote = null;
      else append(ch);
    } else if (ch === '\\' && i + 1 < text.length) {
      const hex = /^x([0-9a-fA-F]{2})/.exec(text.slice(i + 1));
      if (hex) {
        append(String.fromCharCode(parseInt(hex[1], 16)));
        i += 3;
      } else {
        append(text[++i]);
      }
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else {
        append(ch);
        if (ch === '$') word!.usesVariable = true;
      }
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      append('');
    } else if (ch === '#') {
      break;
    } else if (/\s/.test(ch)) {
      if (word) words.push(word);
      word = null;
    } else {
      append(ch);
    }
  }
  if (quote !== null) return { error: `unmatched ${quote === '"' ? 'double' : 'single'} quote` };
  if (word) words.push(word);
  return { words };
}
