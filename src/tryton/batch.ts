/**
 * Batched Tryton calls that still fail per record: a `create` of a whole page, or a
 * workflow button on many sales, runs in one transaction, so one bad record fails them
 * all. When that happens (a record-level error: UserError, a Python error on some
 * value, a concurrent edit) the batch is replayed one record at a time and each record
 * gets its own outcome. Errors that no record can cause (network, HTTP, access rights,
 * login) are not caught here: they fail the whole import.
 */
import { TrytonError, type TrytonClient, type Values } from "./rpc";

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: TrytonError };

/** Whether a failed call may be the fault of one record in it (so replaying one by one isolates it). */
export function isRecordError(err: unknown): err is TrytonError {
  return (
    err instanceof TrytonError &&
    (err.code === "user_error" ||
      err.code === "user_warning" ||
      err.code === "server_error" ||
      err.code === "concurrency")
  );
}

/** `create` of all values in one call; on a record-level error, one call per value. */
export async function createEach(
  client: TrytonClient,
  model: string,
  values: Values[],
): Promise<Outcome<number>[]> {
  if (values.length === 0) return [];
  try {
    const ids = await client.create(model, values);
    return ids.map((id) => ({ ok: true, value: id }));
  } catch (err) {
    if (!isRecordError(err) || values.length === 1) {
      if (isRecordError(err)) return [{ ok: false, error: err }];
      throw err;
    }
  }
  const out: Outcome<number>[] = [];
  for (const v of values) {
    try {
      const [id] = await client.create(model, [v]);
      out.push({ ok: true, value: id as number });
    } catch (err) {
      if (!isRecordError(err)) throw err;
      out.push({ ok: false, error: err });
    }
  }
  return out;
}

/** `write` of several `[ids, values]` pairs in one call; on a record-level error, one call per pair. */
export async function writeEach(
  client: TrytonClient,
  model: string,
  pairs: Array<[ids: number[], values: Values]>,
): Promise<Outcome<null>[]> {
  if (pairs.length === 0) return [];
  const [first, ...rest] = pairs as [[number[], Values], ...Array<[number[], Values]>];
  try {
    await client.write(model, first[0], first[1], ...rest);
    return pairs.map(() => ({ ok: true, value: null }));
  } catch (err) {
    if (!isRecordError(err)) throw err;
    if (pairs.length === 1) return [{ ok: false, error: err }];
  }
  const out: Outcome<null>[] = [];
  for (const [ids, values] of pairs) {
    try {
      await client.write(model, ids, values);
      out.push({ ok: true, value: null });
    } catch (err) {
      if (!isRecordError(err)) throw err;
      out.push({ ok: false, error: err });
    }
  }
  return out;
}

/**
 * A workflow button on `ids`, `chunk` records per call, at most `concurrency` calls in flight
 * (each chunk is its own request and transaction; a server that serialises writers gains
 * nothing from more than one). A chunk that fails is replayed one record at a time. Returns
 * the error of each record that failed (the others may still have been skipped silently:
 * read the state back). A failure no record can cause stops further chunks; the calls already
 * in flight are waited for before it is thrown.
 */
export async function pressEach(
  client: TrytonClient,
  model: string,
  button: string,
  ids: number[],
  chunk: number,
  onChunk?: (done: number) => void,
  concurrency = 1,
): Promise<Map<number, TrytonError>> {
  const failed = new Map<number, TrytonError>();
  const size = Math.max(1, Math.floor(chunk));
  const parts: number[][] = [];
  for (let i = 0; i < ids.length; i += size) parts.push(ids.slice(i, i + size));
  let done = 0;
  let next = 0;
  let fatal: { error: unknown } | undefined;
  const press = async (part: number[]): Promise<void> => {
    try {
      await client.button(model, button, part);
    } catch (err) {
      if (!isRecordError(err)) throw err;
      if (part.length === 1) failed.set(part[0] as number, err);
      else {
        for (const id of part) {
          try {
            await client.button(model, button, [id]);
          } catch (one) {
            if (!isRecordError(one)) throw one;
            failed.set(id, one);
          }
        }
      }
    }
    done += part.length;
    onChunk?.(done);
  };
  // Each lane takes the next chunk when its previous one is answered.
  const lane = async (): Promise<void> => {
    while (!fatal && next < parts.length) {
      const part = parts[next++] as number[];
      try {
        await press(part);
      } catch (err) {
        fatal ??= { error: err };
      }
    }
  };
  const lanes = Math.max(1, Math.min(Math.floor(concurrency) || 1, parts.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  if (fatal) throw fatal.error;
  return failed;
}
