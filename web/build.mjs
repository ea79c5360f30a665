// Builds the page into dist/ (embedded by src/play/assets.rs): one script and one style
// sheet, minified, the same bytes for the same sources and package-lock.json (.ci/run
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
