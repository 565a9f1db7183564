import { readFileSync } from 'node:fs';
import { parseProfiles, type Profiles } from '../profiles.js';

/** `presets/profiles/profiles.json`, three levels above both `src/shared/effects/` and `dist/shared/effects/`. */
export const PROFILES_FILE = new URL('../../../presets/profiles/profiles.json', import.meta.url);

/** The profiles every command uses, checked on load: a bad edit fails naming the profile. */
export function loadProfiles(file: URL | string = PROFILES_FILE): Profiles {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return parseProfiles(data, String(file));
}
