import type { Config } from './config/schema.js';
import { AdaptiveStowageLayerer, StowageLayerer, type Layerer } from './layering/index.js';

/**
 * The layerer `image.adaptiveLayers` asks for: Stowage at the full budget, or Stowage's
 * adaptive budget (the fewest layers within 1% of the full budget's estimated cost). The two
 * have different names, so their images are cached under different keys.
 */
export function createLayerer(config: Pick<Config, 'image'>): Layerer {
  return config.image.adaptiveLayers ? new AdaptiveStowageLayerer() : new StowageLayerer();
}
