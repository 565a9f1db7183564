import { concurrencyLine, measuredPeaks, mibText } from './recommend.js';
import type { BenchReport, HeapRecommendation, RunnerProfile, RunnerRecommendation, RunnerSpec } from './types.js';
import { profileHeapBasis, profileHeapMiB, type Profiles } from '../shared/profiles.js';
import { formatBytes, toMiB } from '../shared/size.js';
import { DEFAULT_BUDGET_PERCENT } from '../shared/concurrency.js';

/** `7 GiB and 2 CPUs`: how the Markdown names the runner. */
export function runnerText(runner: RunnerSpec): string {
  return `${formatBytes(runner.memoryBytes)} and ${runner.cpus} CPU${runner.cpus === 1 ? '' : 's'}`;
}

function profileLine(profile: string, heap: HeapRecommendation[], runner: RunnerSpec, profiles: Profiles, concurrency: number): RunnerProfile {
  const rule = profiles[profile]!.heap;
  const heapMiB = profileHeapMiB(rule, runner.memoryBytes);
  const largest = heap.reduce((a, b) => (b.maxOldSpaceSizeMiB > a.maxOldSpaceSizeMiB ? b : a));
  return {
    profile,
    heapMiB,
    heapBasis: profileHeapBasis(rule, runner.memoryBytes),
    needMiB: largest.maxOldSpaceSizeMiB,
    neededBy: largest.package,
    fits: largest.maxOldSpaceSizeMiB <= heapMiB,
    raise: heap.filter((line) => line.maxOldSpaceSizeMiB > heapMiB).map((line) => ({ package: line.package, dir: line.dir, maxOldSpaceSizeMiB: line.maxOldSpaceSizeMiB })),
    concurrentHeapMiB: concurrency * heapMiB,
  };
}

/**
 * The recommendations for another runner than this machine: the concurrency that fits its budget and cores,
 * and for each profile the packages run under, whether the heap `memtune run <profile>` gives there covers
 * the largest measured need. The heap needs themselves are the packages' own: they do not depend on the runner.
 */
export function recommendForRunner(report: Pick<BenchReport, 'packages'>, heap: HeapRecommendation[], runner: RunnerSpec, profiles: Profiles): RunnerRecommendation {
  const percent = runner.budgetPercent ?? DEFAULT_BUDGET_PERCENT;
  const budgetBytes = Math.floor((runner.memoryBytes * percent) / 100);
  const concurrency = concurrencyLine(report, budgetBytes, runner.cpus);
  const notes: string[] = [];
  if (runner.memoryFrom === 'this machine') notes.push(`memory: this machine's limit (${formatBytes(runner.memoryBytes)}), as --runner-memory was not given`);
  if (runner.cpusFrom === 'this machine') notes.push(`CPUs: this machine's ${runner.cpus}, as --runner-cpus was not given`);

  const sections = [...new Set(heap.flatMap((line) => (line.section !== null && Object.hasOwn(profiles, line.section) ? [line.section] : [])))];
  const tasks = concurrency?.value ?? 1;
  const profileLines = sections.map((section) =>
    profileLine(
      section,
      heap.filter((line) => line.section === section),
      runner,
      profiles,
      tasks,
    ),
  );
  const memoryMiB = toMiB(runner.memoryBytes);
  for (const line of profileLines) {
    for (const over of line.raise.filter((pkg) => pkg.maxOldSpaceSizeMiB > memoryMiB)) {
      notes.push(`${over.package} needs a ${over.maxOldSpaceSizeMiB} MiB heap under [${line.profile}], more than the runner's ${formatBytes(runner.memoryBytes)}`);
    }
    if (tasks > 1 && line.concurrentHeapMiB > memoryMiB) {
      // Where memtune did not size turbo (or the tasks run otherwise), each nested `memtune run` sizes its heap from
      // the whole limit; only under `memtune run … -- turbo run` does each task get a share.
      notes.push(
        `${tasks} tasks under [${line.profile}] at once: each \`memtune run ${line.profile}\` gives its task ${line.heapMiB} MiB (${line.heapBasis}), ` +
          `so together they may grow to ${tasks} × ${line.heapMiB} = ${line.concurrentHeapMiB} MiB, more than the runner's ${memoryMiB} MiB. ` +
          `The measured peaks fit (the concurrency above); the heap limits do not, so a task that grows past its measured peak meets the kernel's OOM killer before its heap limit. ` +
          `Give each package its own heap (memtune bench --write) or lower the profile's share in .node-options`,
      );
    }
  }
  const tooLarge = measuredPeaks(report)
    .filter((peak) => peak.bytes > runner.memoryBytes)
    .map((peak) => ({ package: peak.name, peakRssBytes: peak.bytes }));
  for (const pkg of tooLarge)
    notes.push(`${pkg.package}: peak RSS ${mibText(pkg.peakRssBytes)} alone is more than the runner's ${formatBytes(runner.memoryBytes)}: the runner cannot run this check`);
  return {
    ...runner,
    budgetBytes,
    budgetBasis: `${runner.budgetPercent === null ? '' : '--budget '}${percent} % of ${formatBytes(runner.memoryBytes)}`,
    concurrency,
    profiles: profileLines,
    tooLarge,
    notes,
  };
}
