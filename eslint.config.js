// eslint for the web console's JavaScript: the recommended rules, and no module that
// imports itself in a circle. Formatting is prettier's (package.json), not eslint's.

import js from "@eslint/js";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import globals from "globals";

export default [
  { ignores: [".venv/", "venv/", "build/", "dist/", "instance/", "reports/"] },
  js.configs.recommended,
  importX.flatConfigs.recommended,
  {
    files: ["my_app/console/static/js/**/*.js"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: globals.browser },
    settings: { "import-x/resolver-next": [createNodeResolver()] },
    rules: {
      "import-x/no-cycle": ["error", { maxDepth: Infinity }],
      "import-x/no-unresolved": "error",
      "import-x/extensions": ["error", "always"],
    },
  },
  { files: ["eslint.config.js"], languageOptions: { globals: globals.node } },
];
