import { NixeryLayerer, NixpkgsAutoLayerer, NixpkgsPopularityLayerer, SingleLayerer, StowageLayerer } from '../../src/layering/index.js';
import { describeLayererContract } from './layerer-contract.js';

// Every Layerer in src/layering: stowage's own and the baselines it is measured against.
describeLayererContract('stowage', () => new StowageLayerer());
describeLayererContract('nixery', () => new NixeryLayerer());
describeLayererContract('nixpkgs popularity', () => new NixpkgsPopularityLayerer());
describeLayererContract('nixpkgs auto', () => new NixpkgsAutoLayerer());
describeLayererContract('single', () => new SingleLayerer(), { readsReferences: false });
