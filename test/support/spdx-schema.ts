import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import * as ajvFormats from 'ajv-formats';

/**
 * Validates documents against the official SPDX 2.3 JSON schema, vendored verbatim from the
 * SPDX specification repository (tag v2.3, schemas/spdx-schema.json) under test/fixtures/spdx.
 */
const SCHEMA_FILE = join(import.meta.dirname, '../fixtures/spdx/spdx-schema-2.3.json');

// ajv-formats is CommonJS with `exports.default`: under NodeNext that is where the plugin is.
const addFormats = ajvFormats.default.default;

let validator: ((document: unknown) => ErrorObject[]) | undefined;

/** The schema's errors for `document`; empty when it is a valid SPDX 2.3 document. */
export function spdxSchemaErrors(document: unknown): ErrorObject[] {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
    validator = (value) => (validate(value) ? [] : [...(validate.errors ?? [])]);
  }
  return validator(document);
}
