import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadProfiles } from '../../shared/effects/load-profiles.js';
import type { StartProfile } from '../render.js';

const PRESETS = new URL('../../../presets/', import.meta.url);

/** A file of memtune's presets/ (the Dockerfile template, its .dockerignore). */
export function readPreset(relative: string): string {
  return readFileSync(fileURLToPath(new URL(relative, PRESETS)), 'utf8');
}

/** The `start` profile as `memtune run start` reads it: the image sizes its heap the same way on every Node. */
export function readStartProfile(): StartProfile {
  const start = loadProfiles().start;
  if (!start) throw new Error('presets/profiles/profiles.json has no "start" profile');
  return { heapPercent: start.heap.percent, nodeFlags: start.nodeFlags };
}
