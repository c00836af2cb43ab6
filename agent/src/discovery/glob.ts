// Include/exclude globs over absolute paths: `*` and `?` stay within one path segment, `**` spans any number
// of segments (including none). A pattern not starting with `/` matches at any depth, so `node_modules`
// means every directory of that name and `*.key` every file ending so.
//
// Node 20 has path.matchesGlob, but as an experimental API that prints a warning on the agent's stderr the
// first time it is used; this is the small subset the scanner needs.

export interface PathFilter {
  /** Excluded paths are not scanned, and an excluded directory is not entered at all. */
  excludes(path: string): boolean;
  /** With include patterns, only files matching one are read; directories are always entered. */
  includesFile(path: string): boolean;
}

export function globToRegExp(pattern: string): RegExp {
  const glob = pattern.startsWith('/') || pattern.startsWith('**') ? pattern : `**/${pattern}`;
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === '*' && glob[i + 1] === '*') {
      const segmentStart = i === 0 || glob[i - 1] === '/';
      if (segmentStart && glob[i + 2] === '/') {
        source += '(?:.*/)?'; // "**/": any number of whole directories, or none
        i += 2;
      } else if (segmentStart && i + 2 === glob.length && source.endsWith('/')) {
        source = `${source.slice(0, -1)}(?:/.*)?`; // trailing "/**": the directory itself and all below it
        i += 1;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

export function createPathFilter(include: readonly string[] = [], exclude: readonly string[] = []): PathFilter {
  const includes = include.map(globToRegExp);
  const excludes = exclude.map(globToRegExp);
  return {
    excludes: (path) => excludes.some((pattern) => pattern.test(path)),
    includesFile: (path) => includes.length === 0 || includes.some((pattern) => pattern.test(path)),
  };
}
