import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Request, Response } from "express";
import {
  SalesforceSession,
  type AuthMode,
  type SalesforceCredentials,
  type SessionOptions,
} from "../salesforce/session";
import { errorText } from "./shared/report";

export interface SalesforceConfigDef extends NodeDef {
  /** `production`, `sandbox` or `custom` (then `customUrl`). */
  loginUrl: string;
  customUrl: string;
  apiVersion: string;
  authMode: AuthMode;
}

export interface SalesforceConfigNode extends Node<SalesforceCredentials> {
  /** One session per config node, shared by every node that uses it; absent when the settings are incomplete. */
  session?: SalesforceSession;
  /** Why there is no session. */
  problem?: Error;
}

const credentialTypes: { [K in keyof SalesforceCredentials]-?: { type: "text" | "password" } } = {
  clientId: { type: "text" },
  clientSecret: { type: "password" },
  username: { type: "text" },
  password: { type: "password" },
  securityToken: { type: "password" },
  privateKey: { type: "password" },
  refreshToken: { type: "password" },
};

export function sessionOptions(
  def: Partial<SalesforceConfigDef>,
  creds: SalesforceCredentials,
): SessionOptions {
  const choice = String(def.loginUrl ?? "production");
  return {
    loginUrl: choice === "custom" ? String(def.customUrl ?? "") : choice,
    apiVersion: String(def.apiVersion ?? ""),
    authMode: (def.authMode ?? "password") as AuthMode,
    credentials: creds,
  };
}

/** Credentials typed in the dialog win; blank ones fall back to the deployed node's (the editor never sees saved secrets). */
function mergeCredentials(
  typed: SalesforceCredentials | undefined,
  saved: SalesforceCredentials | undefined,
) {
  const merged: SalesforceCredentials = { ...saved };
  for (const [key, value] of Object.entries(typed ?? {})) {
    if (typeof value === "string" && value !== "" && value !== "__PWRD__") {
      merged[key as keyof SalesforceCredentials] = value;
    }
  }
  return merged;
}

export default function register(RED: NodeAPI): void {
  function SalesforceConfig(this: SalesforceConfigNode, def: SalesforceConfigDef) {
    RED.nodes.createNode(this, def);
    try {
      this.session = new SalesforceSession(sessionOptions(def, this.credentials ?? {}));
    } catch (err) {
      // Incomplete settings: the nodes using this configuration report it on their first message.
      this.problem = new Error(errorText(err));
      this.error(this.problem.message);
    }
    this.on("close", (done: () => void) => {
      const session = this.session;
      if (!session) return done();
      session.close().finally(done);
    });
  }
  RED.nodes.registerType<SalesforceConfigNode, SalesforceConfigDef, object, SalesforceCredentials>(
    "salesforce-config",
    SalesforceConfig,
    { credentials: credentialTypes },
  );

  // The editor's Test button: logs in with the settings in the dialog (saved or not), shows who
  // and where, the API usage, and the Order statuses with their category.
  RED.httpAdmin.post(
    "/orderbridge/salesforce/test",
    RED.auth.needsPermission("salesforce-config.write"),
    async (req: Request, res: Response) => {
      const body = (req.body ?? {}) as Partial<SalesforceConfigDef> & {
        id?: string;
        credentials?: SalesforceCredentials;
      };
      const deployed = body.id ? (RED.nodes.getNode(body.id) as SalesforceConfigNode | null) : null;
      const saved = body.id
        ? (RED.nodes.getCredentials(body.id) as SalesforceCredentials | undefined)
        : undefined;
      let session: SalesforceSession | undefined;
      try {
        session = new SalesforceSession(
          sessionOptions(body, mergeCredentials(body.credentials, saved ?? deployed?.credentials)),
        );
        const summary = await session.summary();
        res.json({ ok: true, ...summary, statuses: await session.orderStatuses() });
      } catch (err) {
        res.json({ ok: false, error: errorText(err) });
      } finally {
        await session?.close();
      }
    },
  );

  // Order statuses of a deployed configuration, for the order node's Default Status pick list.
  RED.httpAdmin.get(
    "/orderbridge/salesforce/:id/order-statuses",
    RED.auth.needsPermission("salesforce-config.read"),
    async (req: Request, res: Response) => {
      const node = RED.nodes.getNode(String(req.params.id)) as SalesforceConfigNode | null;
      if (!node) {
        res.status(404).json({ ok: false, error: "Deploy the Salesforce configuration first." });
        return;
      }
      if (!node.session) {
        res.json({
          ok: false,
          error: node.problem?.message ?? "The Salesforce configuration is incomplete.",
        });
        return;
      }
      try {
        res.json({ ok: true, statuses: await node.session.orderStatuses() });
      } catch (err) {
        res.json({ ok: false, error: errorText(err) });
      }
    },
  );
}
