// Shell-style wildcards for include directives (`include sites-enabled/*;`, `IncludeOptional conf.d/*.conf`).
// Node 20 has no fs.glob, and the servers' own rules are small: `*`, `?` and `[...]` within one path
// component, leading dots matched only explicitly, results in byte order (what glob(3) gives nginx and
// what Apache sorts to).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export function hasGlobMagic(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/** Every existing path matching an absolute pattern, sorted. Unreadable directories match nothing. */
export async function expandGlob(pattern: string, signal?: AbortSignal): Promise<string[]> {
  let candidates = ['/'];
  for (const component of pattern.split('/').filter((part) => part !== '')) {
    signal?.throwIfAborted();
    if (!hasGlobMagic(component)) {
      candidates = candidates.map((dir) => join(dir, component));
      continue;
    }
    const matcher = globComponentToRegExp(component);
    const next: string[] = [];
    for (const dir of candidates) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.sort()) {
        if (name.startsWith('.') && !component.startsWith('.')) continue;
        if (matcher.test(name)) next.push(join(dir, name));
      }
    }
    candidates = next;
  }
  const existing: string[] = [];
  for (const path of candidates) {
    if (await stat(path).then(() => true, () => false)) existing.push(path);
  }
  return existing;
}

export function globComponentToRegExp(component: string): RegExp {
  let source = '';
  for (let i = 0; i < component.length; i++) {
    const ch = component[i];
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else if (ch === '[') {
      const close = component.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = component.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else if (ch === '\\' && i + 1 < component.length) {
      source += escapeRegExp(component[++i]);
    } else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
