// Writes schemas/*.schema.json from the definitions the code validates with
// (agent/core/schema/). `npm run schemas` after changing a field; a unit test
// (test/unit/schemas.test.ts) fails while the published files differ.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
const { SCHEMAS, renderSchema } = require(join(root, 'dist', 'agent', 'core', 'schema', 'catalog.js'));

mkdirSync(join(root, 'schemas'), { recursive: true });
for (const entry of SCHEMAS) {
  writeFileSync(join(root, 'schemas', entry.file), renderSchema(entry));
  console.log(`schemas/${entry.file}`);
}
