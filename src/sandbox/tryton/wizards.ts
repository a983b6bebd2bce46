/**
 * The two sale wizards the pack may drive over RPC (tryton/sale 6.0 `sale.py`
 * `HandleShipmentException`, `HandleInvoiceException`), with trytond's wizard protocol
 * (`trytond/wizard/wizard.py`): `wizard.<name>.create [ctx]` → `[session, start, end]`,
 * `execute [session, data, state, ctx]` (context `active_model`/`active_id`), `delete`.
 * A view state answers `{view: {fields_view, defaults, buttons, state}}`; a transition
 * runs and, reaching `end`, answers `{}`.
 */
import { UserError } from "./errors";
import type { Env, Rec } from "./orm";
import { pendingCancelledInvoices, pendingCancelledMoves, queueSaleProcess } from "./models/sale";

interface WizardDef {
  start: string;
  end: string;
  /** The view of the start state: fields (for fields_view) and defaults. */
  view: {
    model: string;
    label: string;
    fields: Record<string, { relation: string; string: string }>;
    defaults: (sale: Rec) => Record<string, unknown>;
  };
  /** The transition behind the OK button. */
  handle: (env: Env, sale: Rec, data: Record<string, unknown>) => void;
}

const ids = (value: unknown): number[] => (Array.isArray(value) ? value.map(Number) : []);

export const WIZARDS: Record<string, WizardDef> = {
  "sale.handle.shipment.exception": {
    start: "ask",
    end: "end",
    view: {
      model: "sale.handle.shipment.exception.ask",
      label: "Choose move to recreate:",
      fields: {
        recreate_moves: { relation: "stock.move", string: "Recreate Moves" },
        domain_moves: { relation: "stock.move", string: "Domain Moves" },
      },
      defaults: (sale) => {
        const moves = pendingCancelledMoves(sale);
        return { recreate_moves: moves, domain_moves: moves };
      },
    },
    handle: (env, sale, data) => {
      const domain = ids(data.domain_moves);
      const recreate = ids(data.recreate_moves);
      for (const line of sale.refs("lines")) {
        const skip = new Set([
          ...(line.get("moves_ignored") as number[]),
          ...(line.get("moves_recreated") as number[]),
        ]);
        const ignored: number[] = [];
        const recreated: number[] = [];
        for (const move of line.get("moves") as number[]) {
          if (!domain.includes(move) || skip.has(move)) continue;
          (recreate.includes(move) ? recreated : ignored).push(move);
        }
        env.write("sale.line", [
          [line.id],
          { moves_ignored: [["add", ignored]], moves_recreated: [["add", recreated]] },
        ]);
      }
      queueSaleProcess(env, [sale.id]);
    },
  },
  "sale.handle.invoice.exception": {
    start: "ask",
    end: "end",
    view: {
      model: "sale.handle.invoice.exception.ask",
      label: "Choose invoices to recreate:",
      fields: {
        recreate_invoices: { relation: "account.invoice", string: "Recreate Invoices" },
        domain_invoices: { relation: "account.invoice", string: "Domain Invoices" },
      },
      defaults: (sale) => {
        const invoices = pendingCancelledInvoices(sale);
        return { recreate_invoices: invoices, domain_invoices: invoices };
      },
    },
    handle: (env, sale, data) => {
      const recreate = ids(data.recreate_invoices);
      const domain = ids(data.domain_invoices);
      env.write("sale.sale", [
        [sale.id],
        {
          invoices_ignored: [["add", domain.filter((i) => !recreate.includes(i))]],
          invoices_recreated: [["add", domain.filter((i) => recreate.includes(i))]],
        },
      ]);
      queueSaleProcess(env, [sale.id]);
    },
  },
};

/** Wizard sessions (trytond keeps them in `ir.session.wizard`). */
export class WizardSessions {
  private next = 1;
  private readonly sessions = new Map<number, { name: string; data: Record<string, unknown> }>();

  create(name: string): unknown[] {
    const def = WIZARDS[name]!;
    const id = this.next++;
    this.sessions.set(id, { name, data: {} });
    return [id, def.start, def.end];
  }

  delete(id: unknown): null {
    this.sessions.delete(Number(id));
    return null;
  }

  execute(env: Env, name: string, args: unknown[]): unknown {
    const [sessionId, data, state] = args;
    const session = this.sessions.get(Number(sessionId));
    if (!session || session.name !== name) {
      throw new UserError(env.series.messages.missing("read", String(sessionId), "Session Wizard"));
    }
    const def = WIZARDS[name]!;
    const model = env.context.active_model;
    const activeId = env.context.active_id;
    if (model !== "sale.sale" || typeof activeId !== "number") {
      throw new UserError(`Wizard "${name}" needs active_model "sale.sale" and active_id in the context.`);
    }
    const [sale] = env.recs("sale.sale", [activeId]);
    env.read("sale.sale", [activeId], ["state"]);
    if (data && typeof data === "object") Object.assign(session.data, data);
    if (state === def.start) {
      return {
        view: {
          fields_view: {
            model: def.view.model,
            type: "form",
            arch: `<form col="2"><image name="tryton-question" xexpand="0" xfill="0"/><label string="${def.view.label}" id="choose" yalign="0.0" xalign="0.0" xexpand="1"/><field name="${Object.keys(def.view.fields)[0]}" colspan="2" widget="multiselection" mode="tree,form"/></form>`,
            field_childs: null,
            fields: Object.fromEntries(
              Object.entries(def.view.fields).map(([fname, f]) => [
                fname,
                {
                  name: fname,
                  type: "many2many",
                  relation: f.relation,
                  string: f.string,
                  readonly: false,
                  required: false,
                },
              ]),
            ),
          },
          defaults: def.view.defaults(sale!),
          buttons: [
            {
              state: "end",
              icon: "tryton-cancel",
              default: false,
              validate: false,
              string: "Cancel",
              states: "{}",
            },
            { state: "handle", icon: "tryton-ok", default: true, validate: true, string: "OK", states: "{}" },
          ],
          state: def.start,
        },
      };
    }
    if (state === "handle") {
      const values = (session.data[def.start] ?? {}) as Record<string, unknown>;
      def.handle(env, sale!, values);
      return {};
    }
    return {};
  }
}
