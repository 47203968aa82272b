// Bundle src/main.ts and src/style.css into dist/ (content-hashed names under dist/assets/),
// write a gzip copy beside each text asset (name.gz, served to browsers that accept gzip)
// and write dist/index.html that loads them. The GraphQL documents are the files in
// clients/operations/, imported as text with the fragments they spread (operations.mjs), so
// the client sends exactly what CI validates and the server knows.
import { mkdir, readFile, readdir, rm, writeFile, copyFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { constants, gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { operationDocument } from "./operations.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const assets = join(dist, "assets");

await rm(dist, { recursive: true, force: true });
await mkdir(assets, { recursive: true });

const operations = {
  name: "operations",
  setup(build) {
    build.onLoad({ filter: /\.graphql$/ }, async (args) => ({
      contents: await operationDocument(args.path),
      loader: "text",
      watchFiles: [args.path],
    }));
  },
};

const result = await esbuild.build({
  entryPoints: { app: join(here, "src/main.ts"), style: join(here, "src/style.css") },
  bundle: true,
  format: "esm",
  target: ["es2020", "chrome90", "firefox90", "safari15"],
  minify: true,
  sourcemap: "linked",
  outdir: assets,
  entryNames: "[name]-[hash]",
  plugins: [operations],
  metafile: true,
  logLevel: "warning",
  legalComments: "linked",
});

const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
const pick = (prefix, suffix) => {
  const name = outputs.find((file) => file.startsWith(prefix) && file.endsWith(suffix));
  if (!name) throw new Error(`esbuild wrote no ${prefix}*${suffix}`);
  return `assets/${name}`;
};

await copyFile(join(here, "icon.svg"), join(assets, "icon.svg"));
// Precompressed once here, at the highest level, rather than on every request.
for (const name of await readdir(assets)) {
  if (!/\.(js|css|svg|map|txt)$/.test(name)) continue;
  const data = await readFile(join(assets, name));
  const packed = gzipSync(data, { level: constants.Z_BEST_COMPRESSION });
  if (packed.length < data.length) await writeFile(join(assets, `${name}.gz`), packed);
}
const template = await readFile(join(here, "index.html"), "utf8");
const html = template
  .replace("{{APP_JS}}", pick("app-", ".js"))
  .replace("{{APP_CSS}}", pick("style-", ".css"));
// written last: the Makefile and the server take index.html as "the build is complete"
await writeFile(join(dist, "index.html"), html);
console.log(`web client built: ${outputs.filter((f) => !f.endsWith(".map")).join(", ")}`);
