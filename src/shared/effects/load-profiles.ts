import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseProfiles, type Profiles } from '../profiles.js';

/**
 * `presets/profiles/profiles.json`: the nearest above this module, three levels up from `src/shared/effects/` and
 * `dist/shared/effects/`, two from `dist/bundle/`, where the bundled `memtune run` is.
 */
export const PROFILES_FILE = nearestAbove(import.meta.dirname, join('presets', 'profiles', 'profiles.json'));

/** memtune's `presets/` directory, as installed. */
export const PRESETS_DIR = dirname(dirname(PROFILES_FILE));

function nearestAbove(dir: string, relative: string): string {
  const file = join(dir, relative);
  return existsSync(file) || dirname(dir) === dir ? file : nearestAbove(dirname(dir), relative);
}

/** The profiles every command uses, checked on load: a bad edit fails naming the profile. */
export function loadProfiles(file: URL | string = PROFILES_FILE): Profiles {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return parseProfiles(data, String(file));
}
