/**
 * The globs memtune reads (workspace patterns with their `!` exclusions, `memtune bench --filter`), matched
 * against POSIX paths and package names. `*` is any run of characters but `/`; `**` is any run including
 * `/`, and a whole `**` segment also stands for no directory at all (`a/**\/b` matches `a/b`, `a/**` matches `a`).
 * Everything else is literal.
 */
export function globRegExp(glob: string): RegExp {
  const segments = glob.split('/');
  let source = '';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**' && last) {
      source += i === 0 ? '.*' : '(?:/.*)?';
      return;
    }
    if (i > 0 && segments[i - 1] !== '**') source += '/';
    source += segment === '**' ? '(?:.*/)?' : segmentSource(segment);
  });
  return new RegExp(`^${source}$`);
}

function segmentSource(segment: string): string {
  return segment
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
}
