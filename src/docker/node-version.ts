import { type Notice, UsageError, quote } from '../shared/errors.js';
import { ACTIVE_LTS_MAJOR, hasHeapPercentageFlag, isEndOfLife } from '../shared/node-releases.js';
import { nvmrcForms, readNvmrcValue } from '../shared/nvmrc-value.js';

export interface NodeVersion {
  /** The image tag before `-slim`: `26`, `24.11` or `22.21.0`, as `.nvmrc` pins it. */
  tag: string;
  major: number;
  /** Where the version came from, for the Dockerfile's comment. */
  source: string;
  /** `--max-old-space-size-percentage` exists in this version (Node 24.6+; the rule is Node >= 24). */
  heapPercentageFlag: boolean;
}

export interface NodeVersionResult {
  version: NodeVersion;
  warnings: Notice[];
}

/** The image tag an `.nvmrc` value names: a version as written, an alias as its major; undefined when it names none. */
function imageTag(value: string): { tag: string; floating: boolean } | undefined {
  const named = readNvmrcValue(value);
  if (named === undefined) return undefined;
  if (named.kind === 'version') return { tag: value.replace(/^v/, ''), floating: false };
  if (named.kind === 'floating') return { tag: String(ACTIVE_LTS_MAJOR), floating: true };
  return { tag: String(named.major), floating: false };
}

/**
 * Reads one `.nvmrc` text. Numbers pin the image tag; `lts/*`, `node` and friends float, so the active
 * LTS is used with a warning; an end-of-life major is rendered but warned about.
 */
export function parseNvmrc(text: string, file = '.nvmrc'): NodeVersionResult {
  const value = text.split('\n')[0]!.trim();
  const named = imageTag(value);
  if (named === undefined) {
    throw new UsageError({
      message: `${file} says ${quote(value)}, which is not a Node version memtune can turn into an image tag.`,
      fix: `Write ${nvmrcForms()}.`,
    });
  }
  const { tag } = named;
  const warnings: Notice[] = [];
  if (named.floating) {
    warnings.push({
      message: `${file} says ${quote(value)}, which moves with each release; the Dockerfile pins Node ${ACTIVE_LTS_MAJOR}, the active LTS.`,
      fix: `Pin a major in ${file} (e.g. ${ACTIVE_LTS_MAJOR}) so the image and your machine agree.`,
    });
  }
  const [major = 0, minor] = tag.split('.').map(Number);
  if (isEndOfLife(major)) {
    warnings.push({
      message: `${file} pins Node ${major}, which is end-of-life: no more security fixes in its images.`,
      fix: `Move to Node ${ACTIVE_LTS_MAJOR} (the active LTS) when you can.`,
    });
  }
  return { version: { tag, major, source: `${file} says ${value}`, heapPercentageFlag: hasHeapPercentageFlag(major, minor) }, warnings };
}

/** A repository without `.nvmrc` gets the active LTS, with a warning that asks for a pin. */
export function nodeVersionWithoutNvmrc(root: string): NodeVersionResult {
  return {
    version: {
      tag: String(ACTIVE_LTS_MAJOR),
      major: ACTIVE_LTS_MAJOR,
      source: 'no .nvmrc: the active LTS',
      heapPercentageFlag: hasHeapPercentageFlag(ACTIVE_LTS_MAJOR, undefined),
    },
    warnings: [
      {
        message: `no .nvmrc in ${root} or above it in the repository; rendering for Node ${ACTIVE_LTS_MAJOR}, the current active LTS.`,
        fix: `Pin the Node major your app is tested on: echo ${ACTIVE_LTS_MAJOR} > .nvmrc`,
      },
    ],
  };
}
