// Preloaded (`--import`) into a worker thread started from src/ rather than dist/ (tests,
// `node --import tsx` benches): registers tsx's loader so the worker's .ts module loads. tsx's
// own `--import tsx` entry registers on the main thread only under Node 20, so workers need this.
// Plain JavaScript because it runs before any TypeScript can; dist/ never uses it.
import { register } from 'tsx/esm/api';

register();
