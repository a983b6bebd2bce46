/**
 * A value in a node's context, read and written through the callback forms of Node-RED's context
 * API, which every store supports — also `localfilesystem` with `cache: false`, where the plain
 * `get(key)` throws and where a write has reached its file when the callback runs.
 */
import type { NodeContextData } from "node-red";

export function readContext<T>(context: NodeContextData, key: string): Promise<T | undefined> {
  return new Promise((resolve, reject) =>
    context.get(key, (err: Error | null | undefined, value: unknown) =>
      err ? reject(err) : resolve(value as T | undefined),
    ),
  );
}

export function writeContext(context: NodeContextData, key: string, value: unknown): Promise<void> {
  return new Promise((resolve, reject) =>
    context.set(key, value, (err?: Error | null) => (err ? reject(err) : resolve())),
  );
}
