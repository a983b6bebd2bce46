// `npm start`: build the pack when dist/ lacks a node file, then run the demo
// (src/sandbox/demo.ts: Magento, Tryton and Salesforce simulators + Node-RED with the example flows)
// through tsx.
// Needs the devDependencies (node-red, tsx): install with `npm ci`.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);

// The pack needs Node >= 22 (jsforce 3.10.26); on an older Node, run this script again under
// the Node 22 of scripts/node.sh (installed once from the npm registry), as npm test does.
if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(
    `Node ${process.version} is older than 22: starting the demo with Node 22 from scripts/node.sh`,
  );
  const bin = execFileSync("bash", [path.join(root, "scripts", "node.sh"), "22"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  const child = spawn(path.join(bin, "node"), [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` },
  });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await startDemo();
}

async function startDemo() {
  for (const dep of ["tsx", "node-red"]) {
    try {
      require.resolve(`${dep}/package.json`);
    } catch {
      console.error(`npm start needs the devDependency "${dep}": run \`npm ci\` (without --omit=dev) first.`);
      process.exit(1);
    }
  }

  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const nodeFiles = Object.values(pkg["node-red"]?.nodes ?? {}).flatMap((f) => [
    f,
    f.replace(/\.c?js$/, ".html"),
  ]);
  if (nodeFiles.some((f) => !existsSync(path.join(root, f)))) {
    console.log("Building the pack (dist/ is missing or incomplete)…");
    try {
      execFileSync(process.execPath, [path.join(root, "scripts", "build.mjs")], {
        cwd: root,
        stdio: "inherit",
      });
    } catch {
      console.error("The build failed: see the errors above.");
      process.exit(1);
    }
  }

  require("tsx/cjs");
  const { main } = require(path.join(root, "src", "sandbox", "demo.ts"));
  await main();
}
