import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Request, Response } from "express";
import { TrytonClient, type TrytonClientOptions } from "../tryton/rpc";
import { errorText } from "./shared/report";

export interface TrytonConfigDef extends NodeDef {
  url: string;
  database: string;
  language: string;
  /** Company id to work in; empty = the user's current company (`get_preferences`). */
  company: string | number;
  timeout: number | string;
}

export interface TrytonCredentials {
  username?: string;
  password?: string;
}

export interface TrytonConfigNode extends Node<TrytonCredentials> {
  /** One session per config node, shared by every node that uses it. */
  client: TrytonClient;
}

const credentialTypes = {
  username: { type: "text" as const },
  password: { type: "password" as const },
};

export function clientOptions(def: Partial<TrytonConfigDef>, creds: TrytonCredentials): TrytonClientOptions {
  const company = Number(def.company);
  return {
    url: String(def.url ?? "").trim(),
    database: String(def.database ?? "").trim(),
    username: String(creds.username ?? "").trim(),
    password: creds.password ?? "",
    language: String(def.language || "en").trim(),
    timeoutMs: Math.max(1, Number(def.timeout) || 120) * 1000,
    ...(Number.isInteger(company) && company > 0 ? { context: { company } } : {}),
  };
}

/** Credentials typed in the dialog win; blank ones fall back to the deployed node's (the editor never sees saved secrets). */
function mergeCredentials(typed: TrytonCredentials | undefined, saved: TrytonCredentials | undefined) {
  const merged: TrytonCredentials = { ...saved };
  for (const [key, value] of Object.entries(typed ?? {})) {
    if (typeof value === "string" && value !== "" && value !== "__PWRD__") {
      merged[key as keyof TrytonCredentials] = value;
    }
  }
  return merged;
}

/** Server version, companies the user may work in, and the one the context uses. */
async function describeServer(client: TrytonClient) {
  const version = await client.version();
  await client.login();
  const companies = await client.searchRead("company.company", [], ["rec_name"], { order: [["id", "ASC"]] });
  return {
    version,
    company: client.context.company ?? null,
    companies: companies.map((c) => ({ id: c.id, name: String(c.rec_name ?? c.id) })),
  };
}

export default function register(RED: NodeAPI): void {
  function TrytonConfig(this: TrytonConfigNode, def: TrytonConfigDef) {
    RED.nodes.createNode(this, def);
    try {
      this.client = new TrytonClient(clientOptions(def, this.credentials ?? {}));
    } catch (err) {
      // Incomplete settings: users of this node report it on their first message.
      this.error(errorText(err));
    }
    this.on("close", (done: () => void) => {
      const client = this.client;
      if (!client) return done();
      client.logout().then(
        () => done(),
        () => done(),
      );
    });
  }
  RED.nodes.registerType<TrytonConfigNode, TrytonConfigDef, object, TrytonCredentials>(
    "tryton-config",
    TrytonConfig,
    { credentials: credentialTypes },
  );

  // The editor's Test button: tries the settings in the dialog, saved or not.
  RED.httpAdmin.post(
    "/orderbridge/tryton/test",
    RED.auth.needsPermission("tryton-config.write"),
    async (req: Request, res: Response) => {
      const body = (req.body ?? {}) as Partial<TrytonConfigDef> & {
        id?: string;
        credentials?: TrytonCredentials;
      };
      const deployed = body.id ? (RED.nodes.getNode(body.id) as TrytonConfigNode | null) : null;
      const saved = body.id
        ? (RED.nodes.getCredentials(body.id) as TrytonCredentials | undefined)
        : undefined;
      let client: TrytonClient | undefined;
      try {
        client = new TrytonClient({
          ...clientOptions(body, mergeCredentials(body.credentials, saved ?? deployed?.credentials)),
          retry: false,
        });
        res.json({ ok: true, ...(await describeServer(client)) });
      } catch (err) {
        res.json({ ok: false, error: errorText(err) });
      } finally {
        await client?.logout().catch(() => undefined);
      }
    },
  );

  // Companies of a deployed config node, for pick lists.
  RED.httpAdmin.get(
    "/orderbridge/tryton/:id/companies",
    RED.auth.needsPermission("tryton-config.read"),
    async (req: Request, res: Response) => {
      const node = RED.nodes.getNode(String(req.params.id)) as TrytonConfigNode | null;
      if (!node?.client) {
        res.status(404).json({ ok: false, error: "Deploy the Tryton configuration first." });
        return;
      }
      try {
        res.json({ ok: true, ...(await describeServer(node.client)) });
      } catch (err) {
        res.json({ ok: false, error: errorText(err) });
      }
    },
  );
}
