import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_BINDINGS } from '../../../src/config/env.js';
import { parseConfig } from '../../../src/config/load.js';
import { REPO_ROOT } from '../../support/registry-server.js';

describe('the README configuration table', () => {
  it('lists every environment variable with its config key and default', async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const defaults = parseConfig({}) as unknown as Record<string, unknown>;
    for (const binding of ENV_BINDINGS) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${binding.name}\` |`));
      expect(row, `${binding.name} has a row`).toBeDefined();
      expect(row).toContain(`\`${binding.path.join('.')}\``);
      let value: unknown = defaults;
      for (const key of binding.path) value = (value as Record<string, unknown>)[key];
      const shown = Array.isArray(value) ? value.join(',') : String(value);
      if (shown !== '') expect(row, `${binding.name} shows its default`).toContain(`\`${shown}\``);
    }
  });
});
