/** Upper-cases the first character. */
export function capitalize(value: string): string {
  return value.length === 0 ? value : value[0]!.toUpperCase() + value.slice(1);
}

/** Splits camelCase, kebab-case, snake_case and spaced words. */
export function words(value: string): string[] {
  return value
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter((word) => word.length > 0);
}

export function camelCase(value: string): string {
  return words(value)
    .map((word, index) => (index === 0 ? word.toLowerCase() : capitalize(word.toLowerCase())))
    .join('');
}

export function kebabCase(value: string): string {
  return words(value)
    .map((word) => word.toLowerCase())
    .join('-');
}

/** Shortens `value` to at most `max` characters, ending with `…` when cut. */
export function truncate(value: string, max: number): string {
  if (max <= 0) return '';
  return value.length <= max ? value : value.slice(0, max - 1) + '…';
}

export function padStart(value: string, width: number, fill = ' '): string {
  return value.padStart(width, fill);
}

export function padEnd(value: string, width: number, fill = ' '): string {
  return value.padEnd(width, fill);
}

/** Renders a validation path such as `["items", 2, "sku"]` as `items[2].sku`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out.length === 0 ? segment : `.${segment}`;
  }
  return out.length === 0 ? '(root)' : out;
}
