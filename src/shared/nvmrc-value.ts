import { ACTIVE_LTS_MAJOR, NODE_RELEASES } from './node-releases.js';

/**
 * What the first line of an `.nvmrc` names, read one way for `memtune docker` (the image tag) and
 * `memtune doctor` (the running node against the pin).
 */
export type NvmrcValue =
  /** A major, major.minor or full version, `v` optional: `numbers` as written, one to three of them. */
  | { kind: 'version'; numbers: number[] }
  /** `lts/*`, `node`, `stable`, `latest`, `current`: moves with each release. */
  | { kind: 'floating' }
  /** `lts/<codename>`: one LTS major. */
  | { kind: 'codename'; major: number };

const FLOATING = /^(lts\/(\*|latest)|node|stable|latest|current)$/i;

/** Undefined when the value names no Node version memtune knows (`banana`, `>=20`, an unknown codename). */
export function readNvmrcValue(value: string): NvmrcValue | undefined {
  const version = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(value);
  if (version)
    return {
      kind: 'version',
      numbers: version
        .slice(1)
        .filter((part) => part !== undefined)
        .map(Number),
    };
  if (FLOATING.test(value)) return { kind: 'floating' };
  const codename = /^lts\/([a-z]+)$/i.exec(value)?.[1]?.toLowerCase();
  const major = codename === undefined ? undefined : NODE_RELEASES.ltsCodenames[codename];
  return major === undefined ? undefined : { kind: 'codename', major };
}

/** The forms an `.nvmrc` may take, as a fix names them. */
export function nvmrcForms(): string {
  return `a major (${ACTIVE_LTS_MAJOR}), a version (${ACTIVE_LTS_MAJOR}.1.0), lts/* or lts/<codename> (${Object.keys(NODE_RELEASES.ltsCodenames).slice(-3).join(', ')})`;
}
