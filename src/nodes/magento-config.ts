import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Request, Response } from "express";
import { MagentoClient, type MagentoClientOptions } from "../magento/client";
import type { MagentoAuth } from "../magento/auth";
import { errorText } from "./shared/report";

export interface MagentoConfigDef extends NodeDef {
  baseUrl: string;
  storeCode: string;
  authMode: "bearer" | "oauth1" | "admin";
  timeout: number | string;
  pageSize: number | string;
  rejectUnauthorized: boolean;
  ca: string;
}

export interface MagentoCredentials {
  token?: string;
  consumerKey?: string;
  consumerSecret?: string;
  accessToken?: string;
  accessTokenSecret?: string;
  username?: string;
  password?: string;
}

export interface MagentoConfigNode extends Node<MagentoCredentials> {
  client: MagentoClient;
  pageSize: number;
  storeCode: string;
}

const credentialTypes: { [K in keyof MagentoCredentials]-?: { type: "text" | "password" } } = {
  token: { type: "password" },
  consumerKey: { type: "text" },
  consumerSecret: { type: "password" },
  accessToken: { type: "password" },
  accessTokenSecret: { type: "password" },
  username: { type: "text" },
  password: { type: "password" },
};

export const MAX_PAGE_SIZE = 300;

function authOf(mode: MagentoConfigDef["authMode"], c: MagentoCredentials): MagentoAuth {
  if (mode === "oauth1") {
    return {
      kind: "oauth1",
      consumerKey: c.consumerKey ?? "",
      consumerSecret: c.consumerSecret ?? "",
      accessToken: c.accessToken ?? "",
      accessTokenSecret: c.accessTokenSecret ?? "",
    };
  }
  if (mode === "admin") return { kind: "admin", username: c.username ?? "", password: c.password ?? "" };
  return { kind: "bearer", token: c.token ?? "" };
}

export function clientOptions(
  def: Partial<MagentoConfigDef>,
  creds: MagentoCredentials,
): MagentoClientOptions {
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Number(def.pageSize) || 100));
  return {
    baseUrl: String(def.baseUrl ?? "").trim(),
    storeCode: String(def.storeCode || "default").trim(),
    auth: authOf(def.authMode ?? "bearer", creds),
    timeoutMs: Math.max(1, Number(def.timeout) || 30) * 1000,
    pageSize,
    tls: { rejectUnauthorized: def.rejectUnauthorized !== false, ca: def.ca?.trim() || undefined },
  };
}

/** Credentials typed in the dialog win; blank ones fall back to the deployed node's (the editor never sees saved secrets). */
function mergeCredentials(typed: MagentoCredentials | undefined, saved: MagentoCredentials | undefined) {
  const merged: MagentoCredentials = { ...saved };
  for (const [key, value] of Object.entries(typed ?? {})) {
    if (typeof value === "string" && value !== "" && value !== "__PWRD__") {
      merged[key as keyof MagentoCredentials] = value;
    }
  }
  return merged;
}

export default function register(RED: NodeAPI): void {
  function MagentoConfig(this: MagentoConfigNode, def: MagentoConfigDef) {
    RED.nodes.createNode(this, def);
    const options = clientOptions(def, this.credentials ?? {});
    this.client = new MagentoClient(options);
    this.pageSize = options.pageSize ?? 100;
    this.storeCode = options.storeCode ?? "default";
    this.on("close", (done: () => void) => {
      this.client.close();
      done();
    });
  }
  RED.nodes.registerType<MagentoConfigNode, MagentoConfigDef, object, MagentoCredentials>(
    "magento-config",
    MagentoConfig,
    { credentials: credentialTypes },
  );

  // The editor's Test button: tries the settings in the dialog, saved or not, and returns the store views.
  RED.httpAdmin.post(
    "/orderbridge/magento/test",
    RED.auth.needsPermission("magento-config.write"),
    async (req: Request, res: Response) => {
      const body = (req.body ?? {}) as Partial<MagentoConfigDef> & {
        id?: string;
        credentials?: MagentoCredentials;
      };
      const deployed = body.id ? (RED.nodes.getNode(body.id) as MagentoConfigNode | null) : null;
      const saved = body.id
        ? (RED.nodes.getCredentials(body.id) as MagentoCredentials | undefined)
        : undefined;
      const client = new MagentoClient(
        clientOptions(body, mergeCredentials(body.credentials, saved ?? deployed?.credentials)),
      );
      try {
        const { storeViews } = await client.testConnection();
        res.json({ ok: true, storeViews });
      } catch (err) {
        res.json({ ok: false, error: errorText(err) });
      } finally {
        client.close();
      }
    },
  );

  // Store views of a deployed config node, for pick lists in other nodes' dialogs.
  RED.httpAdmin.get(
    "/orderbridge/magento/:id/store-views",
    RED.auth.needsPermission("magento-config.read"),
    async (req: Request, res: Response) => {
      const node = RED.nodes.getNode(String(req.params.id)) as MagentoConfigNode | null;
      if (!node) {
        res.status(404).json({ ok: false, error: "Deploy the Magento configuration first." });
        return;
      }
      try {
        res.json({ ok: true, storeViews: await node.client.storeViews() });
      } catch (err) {
        res.json({ ok: false, error: errorText(err) });
      }
    },
  );
}
