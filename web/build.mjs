// Builds the pages' assets into dist/: the playground's (embedded by src/play/assets.rs:
// one script and one style sheet) and the operator's console's (src/console/assets.rs:
// console.js and console.css, no package of their own), minified, the same bytes for the same sources and package-lock.json (.ci/run
// rebuilds them and fails if they differ from those committed).
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

const banner =
  "/* bondmap playground, built by web/build.mjs. Bundles CodeMirror 6 " +
  "(MIT, Marijn Haverbeke and others) and its Lezer parsers (MIT). */";

mkdirSync("dist", { recursive: true });
const common = { bundle: true, minify: true, charset: "utf8", legalComments: "none", logLevel: "warning" };
await esbuild.build({
  ...common,
  entryPoints: ["src/main.js"],
  outfile: "dist/app.js",
  format: "iife",
  target: ["es2020"],
  banner: { js: banner },
});
await esbuild.build({ ...common, entryPoints: ["src/style.css"], outfile: "dist/app.css" });
copyFileSync("src/index.html", "dist/index.html");
await esbuild.build({
  ...common,
  entryPoints: ["src/console.js"],
  outfile: "dist/console.js",
  format: "iife",
  target: ["es2020"],
  banner: { js: "/* bondmap console, built by web/build.mjs. */" },
});
await esbuild.build({ ...common, entryPoints: ["src/console.css"], outfile: "dist/console.css" });
