// The OpenSeadragon a built site carries: npm's build of the pinned version, without the parts
// the tour never uses, minified. Run by `npm ci` (package.json "postinstall"); writes
// node_modules/.storiiies/openseadragon/ (openseadragon.min.js and the licence), which
// storiiies/site/assets.py and hatch_build.py take.
//
// The tour opens IIIF images and single images (a virtual canvas's parts) with the 2D canvas
// drawer and shows no navigator or reference strip (tour.js). Left out: the WebGL and HTML
// drawers (and the matrix class only WebGL uses), the navigator, the reference strip, and the
// Deep Zoom, OpenStreetMap, TMS and legacy tile sources — about a sixth of the bytes a reader
// downloads. What remains is OpenSeadragon's own code, unchanged, module by module.
import { readFileSync, mkdirSync, writeFileSync, copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const installed = join(root, "node_modules", "openseadragon");
const output = join(root, "node_modules", ".storiiies", "openseadragon");

// Module headers in the build file, as OpenSeadragon's Gruntfile concatenates them.
const LEFT_OUT = [
  "WebGLDrawer", "Mat3", "HTMLDrawer", "Navigator", "ReferenceStrip",
  "DziTileSource", "OsmTileSource", "TmsTileSource", "LegacyTileSource", "TileSourceCollection",
];

const version = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")).version;
const source = readFileSync(join(installed, "build", "openseadragon", "openseadragon.js"), "utf8");
const modules = source.split(/(?=\/\*\n \* OpenSeadragon - )/);
const named = (part) => (/^\/\*\n \* OpenSeadragon - (.*)/.exec(part) || [])[1];
const missing = LEFT_OUT.filter((name) => !modules.some((part) => named(part) === name));
if (missing.length) {
  // Another OpenSeadragon: the list above must be checked against it, not guessed.
  console.error(`openseadragon ${version} has no module ${missing.join(", ")}: update scripts/openseadragon.mjs`);
  process.exit(1);
}
const kept = modules.filter((part) => !LEFT_OUT.includes(named(part))).join("");
const { code } = transformSync(kept, { minify: true, legalComments: "none", target: "es2017" });

mkdirSync(output, { recursive: true });
// npm's build opens with `//! openseadragon VERSION` and where it comes from (hatch_build.py
// reads the version there): the same lines, and one saying what is left out.
const npmBuild = readFileSync(join(installed, "build", "openseadragon", "openseadragon.min.js"), "utf8");
const notice = npmBuild.split("\n").filter((line, i, lines) => lines.slice(0, i + 1).every((l) => l.startsWith("//!")));
if (notice[0] !== `//! openseadragon ${version}`) {
  console.error(`openseadragon.min.js does not open with "//! openseadragon ${version}"`);
  process.exit(1);
}
const banner = [...notice, `//! Left out by storiiies: ${LEFT_OUT.join(", ")}`, ""].join("\n");
writeFileSync(join(output, "openseadragon.min.js"), banner + code);
copyFileSync(join(installed, "LICENSE.txt"), join(output, "LICENSE.txt"));
console.log(`openseadragon ${version}: ${LEFT_OUT.length} modules left out, ${output}`);
