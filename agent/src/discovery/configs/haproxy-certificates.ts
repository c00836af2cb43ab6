// The certificates one HAProxy `bind` line loads: `crt FILE`, `crt DIR` (every file in it but HAProxy's
// companion files and dotfiles, in name order) and `crt-list FILE` (one certificate a line, with optional
// [options] and SNI filters). A combined PEM holds its key; otherwise HAProxy looks for "<file>.key".
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileExists, readCertificateFile } from './certificate-file.js';
import type { ConfigReader, IncludeOrigin } from './config-reader.js';
import { describeFsError } from './fs-errors.js';
import type { HaproxyWord } from './haproxy-syntax.js';
import { splitHaproxyLine } from './haproxy-syntax.js';
import { unique, type ListenAddress, type ServiceBinding } from './service-binding.js';

export interface CertificateEntry {
  binding: ServiceBinding;
  /** DNS names the certificate holds, for matching SNI names HAProxy would route to it. */
  certificateNames: string[];
  /** A crt-list line with SNI filters: HAProxy uses it for those names only. */
  filtered: boolean;
}

export interface CrtContext {
  reader: ConfigReader;
  /** The global `crt-base`, prefixed to relative certificate paths. */
  crtBase: string | null;
  /** Relative paths without crt-base: HAProxy resolves them against its working directory, usually this. */
  configDir: string;
  listen: ListenAddress[];
}

// Files HAProxy loads alongside a certificate of the same name, never as certificates.
const COMPANION_EXTENSIONS = ['.key', '.ocsp', '.issuer', '.sctl'];

export async function loadCrt(word: HaproxyWord, origin: IncludeOrigin, context: CrtContext): Promise<CertificateEntry[]> {
  const path = certificatePath(word, origin, context);
  if (path === null) return [];
  let files: string[];
  try {
    files = (await stat(path)).isDirectory() ? await certificateFilesIn(path) : [path];
  } catch (err) {
    if (context.reader.signal?.aborted) throw err;
    context.reader.problem(origin.path, origin.line, `crt "${word.value}": ${describeFsError(err)}`);
    return [];
  }
  const entries: CertificateEntry[] = [];
  for (const file of files) entries.push(await entryFor(file, origin, [], context));
  return entries;
}

export async function loadCrtList(word: HaproxyWord, origin: IncludeOrigin, context: CrtContext): Promise<CertificateEntry[]> {
  if (word.usesVariable) {
    context.reader.problem(origin.path, origin.line, `crt-list "${word.value}": path uses a variable; not resolved`);
    return [];
  }
  const listPath = resolve(context.configDir, word.value);
  const entries: CertificateEntry[] = [];
  await context.reader.withFile(listPath, origin, async (text) => {
    for (const [index, raw] of text.split('\n').entries()) {
      const line = { path: listPath, line: index + 1 };
      const parsed = splitHaproxyLine(raw);
      if ('error' in parsed) {
        context.reader.problem(listPath, line.line, parsed.error);
        continue;
      }
      const [first, ...rest] = parsed.words;
      if (first === undefined) continue;
      const filters = sniFilters(rest);
      if (filters === null) {
        context.reader.problem(listPath, line.line, 'unclosed "[" in crt-list line');
        continue;
      }
      const path = certificatePath(first, line, context);
      if (path !== null) entries.push(await entryFor(path, line, filters, context));
    }
  });
  return entries;
}

// After the certificate path: an optional "[ssl options]" group, then SNI filters; "!name" excludes a name.
function sniFilters(words: HaproxyWord[]): string[] | null {
  let rest = words.map((w) => w.value);
  if (rest[0]?.startsWith('[')) {
    const close = rest.findIndex((w) => w.endsWith(']'));
    if (close === -1) return null;
    rest = rest.slice(close + 1);
  }
  return unique(rest.filter((name) => !name.startsWith('!')).map((name) => name.toLowerCase()));
}

function certificatePath(word: HaproxyWord, origin: IncludeOrigin, context: CrtContext): string | null {
  if (word.usesVariable) {
    context.reader.problem(origin.path, origin.line, `"${word.value}": path uses a variable; not resolved`);
    return null;
  }
  if (word.value.startsWith('/')) return word.value;
  return context.crtBase !== null ? join(context.crtBase, word.value) : resolve(context.configDir, word.value);
}

async function certificateFilesIn(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith('.') || COMPANION_EXTENSIONS.some((ext) => name.endsWith(ext))) continue;
    const path = join(dir, name);
    // Subdirectories are skipped, as HAProxy does; so is anything it could not open as a file.
    if (await stat(path).then((s) => s.isFile(), () => false)) files.push(path);
  }
  return files;
}

async function entryFor(path: string, origin: IncludeOrigin, filters: string[], context: CrtContext): Promise<CertificateEntry> {
  const facts = await readCertificateFile(path, context.reader.signal);
  let keyPath: string | null = null;
  let certificateNames: string[] = [];
  if ('error' in facts) {
    context.reader.problem(origin.path, origin.line, `"${path}": ${facts.error}`);
  } else {
    certificateNames = facts.names;
    if (facts.holdsPrivateKey) keyPath = path;
    else if (await fileExists(`${path}.key`)) keyPath = `${path}.key`;
    else context.reader.problem(origin.path, origin.line, `"${path}" holds no private key and "${path}.key" does not exist`);
  }
  return {
    binding: {
      service: 'haproxy',
      configPath: origin.path,
      line: origin.line,
      certificatePath: path,
      keyPath,
      chainPath: null,
      serverNames: filters,
      listen: [...context.listen],
    },
    certificateNames,
    filtered: filters.length > 0,
  };
}
