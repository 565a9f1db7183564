/**
 * What memtune knows about Node.js releases, in one table: `memtune doctor` (end-of-life warnings) and
 * `memtune docker` (the image's Node, `lts/*`, end-of-life warnings, the heap flag) read it from here only.
 * These facts date: when a major changes phase, change this table and its `checked` date, nothing else.
 */
export const NODE_RELEASES = {
  source: 'Node.js release schedule: https://nodejs.org/en/about/previous-releases and https://github.com/nodejs/Release#release-schedule',
  checked: '2026-11-22',
  /** The active LTS: what `lts/*` means, and what a repository without `.nvmrc` gets. */
  activeLts: { major: 26, since: '2026-10-28' },
  /** Still get security fixes. */
  maintenanceLts: [22, 24],
  /**
   * The newest major this table knows. Every major up to it that is not an LTS above is end-of-life
   * (20 and 25 are, as of `checked`); newer majors are assumed supported.
   */
  newestKnownMajor: 26,
  /** nvm's `lts/<codename>` aliases. */
  ltsCodenames: {
    argon: 4,
    boron: 6,
    carbon: 8,
    dubnium: 10,
    erbium: 12,
    fermium: 14,
    gallium: 16,
    hydrogen: 18,
    iron: 20,
    jod: 22,
    krypton: 24,
  } as Readonly<Record<string, number>>,
  /** `--max-old-space-size-percentage` exists from this release on (a backport to 22.21.0 is not relied on). */
  heapPercentageFlagSince: { major: 24, minor: 6 },
} as const;

export const ACTIVE_LTS_MAJOR: number = NODE_RELEASES.activeLts.major;

/** The majors that still get fixes, oldest first: 22, 24, 26. */
export const SUPPORTED_MAJORS: readonly number[] = [...NODE_RELEASES.maintenanceLts, NODE_RELEASES.activeLts.major].sort((a, b) => a - b);

export function isEndOfLife(major: number): boolean {
  return major <= NODE_RELEASES.newestKnownMajor && !SUPPORTED_MAJORS.includes(major);
}

/** `22, 24 or 26`, for messages that name the majors to move to. */
export function supportedMajorsText(): string {
  return `${SUPPORTED_MAJORS.slice(0, -1).join(', ')} or ${SUPPORTED_MAJORS.at(-1)}`;
}

/** Whether a Node version has `--max-old-space-size-percentage`; a bare major (an image tag) means its newest release. */
export function hasHeapPercentageFlag(major: number, minor: number | undefined): boolean {
  const since = NODE_RELEASES.heapPercentageFlagSince;
  return major > since.major || (major === since.major && (minor === undefined || minor >= since.minor));
}
