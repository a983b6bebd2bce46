// Preloaded into `node-red-dev validate` (NODE_OPTIONS="-r scripts/mock-catalogue.cjs") so the
// scorecard runs without the Flow Library: node-red-dev asks catalogue.nodered.org for every
// published module and its node types (P08 similar names, N01 duplicate node types), which this
// machine and CI cannot reach. Every other request (the npm registry for P06, P07, D02, D03)
// goes out unchanged.
//
// The stub catalogue lists a few real modules with their real node types, so N01 has something
// to compare against, plus this package itself (N01 must skip a package's own entry). A fuller
// catalogue can be given as a JSON file in ORDERBRIDGE_CATALOGUE ({"modules":[{id,types}…]}).
/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload for `node -r` */
"use strict";
const fs = require("node:fs");
const Module = require("node:module");

const CATALOGUE_URL = /^https?:\/\/(catalogue|flows)\.nodered\.org\//;

const stub = {
  name: "Node-RED Community catalogue (stub for offline validation)",
  updated_at: "2026-01-01T00:00:00.000Z",
  modules: [
    { id: "node-red-node-random", version: "0.4.1", types: ["random"], keywords: ["node-red"] },
    { id: "node-red-node-email", version: "3.0.3", types: ["e-mail", "e-mail in"], keywords: ["node-red"] },
    {
      id: "node-red-node-mysql",
      version: "2.0.0",
      types: ["MySQLdatabase", "mysql"],
      keywords: ["node-red"],
    },
    {
      id: "node-red-dashboard",
      version: "3.6.5",
      types: ["ui_base", "ui_button", "ui_text"],
      keywords: ["node-red"],
    },
    {
      id: "@orderbridge/node-red-order-sync",
      version: "0.0.1",
      types: ["magento-order-in", "tryton-sale-out", "salesforce-order-out", "sync-filter", "status-export"],
      keywords: ["node-red"],
    },
  ],
};

function catalogue() {
  const file = process.env.ORDERBRIDGE_CATALOGUE;
  return file ? JSON.parse(fs.readFileSync(file, "utf8")) : stub;
}

function patch(axios) {
  if (!axios || typeof axios.get !== "function" || axios.__orderbridgeCatalogue) return axios;
  const get = axios.get.bind(axios);
  axios.get = (url, ...rest) => {
    if (typeof url === "string" && CATALOGUE_URL.test(url)) {
      return Promise.resolve({ status: 200, statusText: "OK", headers: {}, config: {}, data: catalogue() });
    }
    return get(url, ...rest);
  };
  Object.defineProperty(axios, "__orderbridgeCatalogue", { value: true });
  return axios;
}

const load = Module._load;
Module._load = function (request, parent, isMain) {
  const exported = load.call(this, request, parent, isMain);
  return request === "axios" ? patch(exported) : exported;
};
