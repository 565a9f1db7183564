/**
 * The few template rules the Dockerfile preset needs, nothing more: `{{name}}` is replaced by a value,
 * a line `{{#name}}` .. `{{/name}}` keeps its lines when the value is true, `{{^name}}` when it is false,
 * and a line that is only `{{! note }}` is dropped. An unknown name is a bug in memtune, so it throws.
 */
export type TemplateValues = Record<string, string | boolean>;

export function renderTemplate(template: string, values: TemplateValues): string {
  const out: string[] = [];
  const open: Array<{ name: string; keep: boolean }> = [];
  for (const line of template.split('\n')) {
    if (line.trim().startsWith('{{!')) continue;
    const section = /^\{\{([#^/])\s*([\w]+)\s*\}\}$/.exec(line.trim());
    if (section) {
      const [, kind, name = ''] = section;
      if (kind === '/') {
        const top = open.pop();
        if (top?.name !== name) throw new Error(`template: {{/${name}}} closes ${top ? `{{#${top.name}}}` : 'nothing'}`);
        continue;
      }
      const value = lookup(values, name);
      open.push({ name, keep: kind === '#' ? value === true : value === false });
      continue;
    }
    if (open.every((block) => block.keep)) out.push(line.replace(/\{\{\s*([\w]+)\s*\}\}/g, (_, name: string) => String(lookup(values, name))));
  }
  if (open.length > 0) throw new Error(`template: {{#${open[open.length - 1]!.name}}} is never closed`);
  // Blocks that render nothing leave blank lines behind; one blank line between stages is enough.
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

function lookup(values: TemplateValues, name: string): string | boolean {
  const value = values[name];
  if (value === undefined) throw new Error(`template: no value for {{${name}}}`);
  return value;
}
