/**
 * Where the bytes over the floor go. A node pulls `floor + waste`: every path it lacks arrives
 * once, and waste is the paths it already held that came again inside a layer it lacked. Each
 * wasted byte is put down to one cause, so a change can be aimed at the largest:
 *
 * - `top`: re-downloaded in an image's top layer (the layer holding more than one unit, the
 *   last one when an image has the whole budget of layers);
 * - `shared`: in another layer, before the update: a group that differs between images by a
 *   few paths;
 * - `update`: in another layer, after the update: a group re-pulled because some of its paths
 *   changed and others did not.
 *
 * `npm run bench:layering -- --waste [--only stowage-cooc] [--seeds ...] [--budget 20]`.
 */
import type { Algorithm, ImageSource } from './simulate.js';
import type { Pull } from './trace.js';

export interface WasteBreakdown {
  readonly floorBytes: number;
  readonly top: number;
  readonly shared: number;
  readonly update: number;
  /** Bytes of top layers pulled in all, new paths included. */
  readonly topPulled: number;
  /** Of `shared` and `update`: paths that had arrived in a top layer before (they left it). */
  readonly fromTop: number;
  /** Of `shared` and `update`: in layers of one path (the path had arrived in another group). */
  readonly alone: number;
}

export function wasteBreakdown(trace: readonly Pull[], images: ImageSource, algorithm: Algorithm, budget: number): WasteBreakdown {
  const layerer = algorithm.layerer;
  if (!layerer) throw new Error('the floor has no waste');
  const built = new Map<string, { digest: string; paths: readonly string[]; top: boolean }[]>();
  const layersHeld = new Map<string, Set<string>>();
  const pathsHeld = new Map<string, Set<string>>();
  const out = { floorBytes: 0, top: 0, shared: 0, update: 0, topPulled: 0, fromTop: 0, alone: 0 };
  const cameInTop = new Set<string>();
  for (const pull of trace) {
    const image = images.get(pull);
    let layers = built.get(image.key);
    if (!layers) {
      const groups = layerer.group(image.graph, algorithm.popularity({ image, history: [] }), budget);
      layers = groups.map((g, i) => ({
        digest: g.paths.join('\n'),
        paths: g.paths,
        top: i === groups.length - 1 && groups.length === budget,
      }));
      built.set(image.key, layers);
    }
    let heldLayers = layersHeld.get(pull.node);
    if (!heldLayers) layersHeld.set(pull.node, (heldLayers = new Set()));
    let heldPaths = pathsHeld.get(pull.node);
    if (!heldPaths) pathsHeld.set(pull.node, (heldPaths = new Set()));
    for (const layer of layers) {
      if (heldLayers.has(layer.digest)) continue;
      heldLayers.add(layer.digest);
      for (const path of layer.paths) {
        const bytes = image.sizes.get(path)!;
        if (layer.top) out.topPulled += bytes;
        if (!heldPaths.has(path)) {
          heldPaths.add(path);
          out.floorBytes += bytes;
        } else if (layer.top) out.top += bytes;
        else {
          if (pull.release === 'security') out.update += bytes;
          else out.shared += bytes;
          if (cameInTop.has(`${pull.node} ${path}`)) out.fromTop += bytes;
          if (layer.paths.length === 1) out.alone += bytes;
        }
        if (layer.top) cameInTop.add(`${pull.node} ${path}`);
      }
    }
  }
  return out;
}

/** One line per breakdown: each cause as a share of the floor. */
export function formatWaste(label: string, w: WasteBreakdown): string {
  const pct = (x: number): string => `${((100 * x) / w.floorBytes).toFixed(2)}%`;
  const total = w.top + w.shared + w.update;
  return `| ${label} | ${(1 + total / w.floorBytes).toFixed(4)}x | ${pct(w.top)} | ${pct(w.shared)} | ${pct(w.update)} | ${pct(w.topPulled)} | ${pct(w.fromTop)} | ${pct(w.alone)} |`;
}

export const WASTE_HEADER = [
  '| trace, algorithm, budget | pulled / floor | top layer again | other layers, before update | other layers, after update | top layers pulled | other layers: had come in a top layer | other layers: of one path |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
].join('\n');
