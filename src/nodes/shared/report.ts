import type { Node, NodeStatus } from "node-red";
import { redact } from "../../sync/secrets";

/** Status text must stay short (Node-RED convention: a few words; counts and the queue length fit in 40). */
const MAX_STATUS = 40;

export function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return redact(message);
}

/** The node's status badge: progress while running, counts when done, red on a whole-run failure. */
export function progressStatus(node: Node) {
  const show = (status: NodeStatus) => node.status(status);
  return {
    busy: (text: string) => show({ fill: "blue", shape: "ring", text: text.slice(0, MAX_STATUS) }),
    done: (text: string, warn = false) =>
      show({ fill: warn ? "yellow" : "green", shape: "dot", text: text.slice(0, MAX_STATUS) }),
    idle: (text: string) => show({ fill: "grey", shape: "ring", text: text.slice(0, MAX_STATUS) }),
    error: (err: unknown) => show({ fill: "red", shape: "dot", text: errorText(err).slice(0, MAX_STATUS) }),
    clear: () => show({}),
  };
}

/** An Error whose message has been scrubbed of every registered secret, safe for done(err) and Catch nodes. */
export function safeError(err: unknown): Error {
  const safe = new Error(errorText(err));
  if (err instanceof Error) safe.name = err.name;
  return safe;
}
