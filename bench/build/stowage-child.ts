/**
 * One stowage build of the build benchmark, in a process of its own, so that its peak RSS is
 * the build's alone: not the generator's, nor what earlier builds left in the allocator and in
 * idle worker threads of the benchmark's process. Reads the build from the JSON file named by
 * argv[2], prints a StowageRun as JSON. Started by run.ts; run compiled, as the registry is.
 */
import { readFile } from 'node:fs/promises';
import { DeflateWorkers, type LayerCompression } from '../../src/builder/layer/index.js';
import { LocalStoreReader } from '../../src/sources/local-store-reader.js';
import { timeStowage, type StowageBuild } from './stowage-build.js';

/** What run.ts hands over. */
export interface ChildBuild {
  readonly storeDir: string;
  readonly layers: StowageBuild['layers'];
  readonly compression: LayerCompression;
  readonly level: number;
  readonly parallelism: number;
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: stowage-child <build.json>');
const build = JSON.parse(await readFile(file, 'utf8')) as ChildBuild;
const result = await timeStowage({
  reader: new LocalStoreReader(build.storeDir),
  layers: build.layers,
  compression: build.compression,
  level: build.level,
  parallelism: build.parallelism,
  gzipCompressors: new DeflateWorkers(build.parallelism),
});
process.stdout.write(`${JSON.stringify(result)}\n`);
