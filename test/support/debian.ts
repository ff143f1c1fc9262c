import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian indexes and `.deb`s are cached here by every Debian test file of a run (and across
 * runs on one machine), so the archive is asked for each file once.
 */
export const DEBIAN_TEST_CACHE = join(tmpdir(), 'stowage-test-debian-cache');
