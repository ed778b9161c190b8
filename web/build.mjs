// Bundles src/main.js (and the CSS it imports) into ../platform/agyn/web/static, which `agyn serve` serves
// at `/`: index.html plus content-hashed assets, minified, no source maps, nothing fetched at run time.
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "platform", "agyn", "web", "static");

await rm(out, { recursive: true, force: true });
await mkdir(join(out, "assets"), { recursive: true });
const result = await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
});
const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
const script = outputs.find((name) => name.endsWith(".js"));
const style = outputs.find((name) => name.endsWith(".css"));
const page = (await readFile(join(here, "index.html"), "utf8"))
  .replace("%SCRIPT%", `/web/assets/${script}`)
  .replace("%STYLE%", `/web/assets/${style}`);
await writeFile(join(out, "index.html"), page);
console.log(`built ${out}: index.html, assets/${script}, assets/${style}`);
