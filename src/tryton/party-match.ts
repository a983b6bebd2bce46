/**
 * Customers → Tryton parties and addresses, for a whole page at once.
 *
 * - A party is found by its e-mail contact mechanism, case-insensitively, for guests and
 *   registered customers alike: trytond-magento created a new party for every guest
 *   order (reference anchors §1.3, §1.8), we never do. Several parties with the e-mail
 *   already (created by hand): the oldest wins.
 * - New parties get name, e-mail and phone contact mechanisms.
 * - Invoice and shipment addresses are matched exactly (party name, street, postal code,
 *   city, country, subdivision) among the party's addresses, else created with the 6.0
 *   field names `party_name` and `postal_code`.
 *
 * Calls per page: one search of contact mechanisms, one of the matched parties'
 * addresses, one create of parties, one create of addresses (each only when needed).
 */
import type { SyncError } from "../sync/result";
import { createEach, isRecordError } from "./batch";
import type { ReferenceData } from "./reference-data";
import { subdivisionKey } from "./reference-data";
import type { TrytonClient, TrytonRecord } from "./rpc";
import type { AddressDraft, SaleDraft } from "./sale-mapping";

export interface PartyIds {
  party: number;
  invoiceAddress: number;
  shipmentAddress: number;
}

export interface PartyResolution {
  resolved: Map<number, PartyIds>;
  /** Orders whose customer data Tryton cannot take (unknown country …), by Magento entity id. */
  failures: Map<number, SyncError>;
}

interface AddressValues {
  party_name: string;
  street: string;
  postal_code: string;
  city: string;
  country: number;
  subdivision: number | null;
}

const addressFields = ["party", "party_name", "street", "postal_code", "city", "country", "subdivision"];

function addressKey(party: number, a: AddressValues): string {
  return JSON.stringify([party, a.party_name, a.street, a.postal_code, a.city, a.country, a.subdivision]);
}

function text(v: unknown): string {
  return typeof v === "string" ? v.trim() : "";
}

function storedKey(row: TrytonRecord): string {
  return addressKey(row.party as number, {
    party_name: text(row.party_name),
    street: text(row.street),
    postal_code: text(row.postal_code),
    city: text(row.city),
    country: (row.country as number | null) ?? 0,
    subdivision: (row.subdivision as number | null) ?? null,
  });
}

/** LIKE treats `_` and `%` as wildcards: an e-mail pattern can only over-match, and matches are re-checked exactly. */
function emailDomain(emailKeys: string[]): unknown[] {
  const clauses = emailKeys.map((e) => ["value", "ilike", e]);
  return [
    ["type", "=", "email"],
    ["OR", ...clauses],
  ];
}

export class PartyMatcher {
  constructor(
    private readonly client: TrytonClient,
    private readonly reference: ReferenceData,
  ) {}

  async resolve(drafts: SaleDraft[]): Promise<PartyResolution> {
    const failures = new Map<number, SyncError>();
    const resolved = new Map<number, PartyIds>();
    if (drafts.length === 0) return { resolved, failures };

    // Countries and subdivisions first: an unknown country fails the order, not the page.
    const addressesOf = (d: SaleDraft) =>
      d.shipmentAddress === d.invoiceAddress ? [d.invoiceAddress] : [d.invoiceAddress, d.shipmentAddress];
    const countries = await this.reference.countriesFor(
      drafts.flatMap((d) => addressesOf(d).map((a) => a.countryCode)),
    );
    const usable: SaleDraft[] = [];
    for (const d of drafts) {
      const bad = addressesOf(d).find((a) => !countries.has(a.countryCode));
      if (bad) {
        failures.set(d.orderId, {
          code: "unknown_country",
          field: `${bad.field}.country_id`,
          message: `Magento order #${d.incrementId}: Tryton has no country with code "${bad.countryCode}" (${bad.field}.country_id).`,
        });
      } else usable.push(d);
    }
    const subdivisions = await this.reference.subdivisionsFor(
      usable.flatMap((d) =>
        addressesOf(d).map((a) => ({
          country: countries.get(a.countryCode) as number,
          codes: a.subdivisionCodes,
          name: a.regionName,
        })),
      ),
    );
    const valuesOf = (a: AddressDraft): AddressValues => {
      const country = countries.get(a.countryCode) as number;
      return {
        party_name: a.partyName,
        street: a.street,
        postal_code: a.postalCode,
        city: a.city,
        country,
        subdivision: subdivisions.get(subdivisionKey(country, a.subdivisionCodes, a.regionName)) ?? null,
      };
    };

    // Parties by e-mail, case-insensitively.
    const emailKeys = [...new Set(usable.map((d) => d.party.emailKey))];
    const partyByEmail = emailKeys.length ? await this.partiesByEmail(emailKeys) : new Map<string, number>();

    // New parties, one per e-mail.
    const newParties = usable.filter(
      (d, i) =>
        !partyByEmail.has(d.party.emailKey) &&
        usable.findIndex((o) => o.party.emailKey === d.party.emailKey) === i,
    );
    const refused = new Map<string, SyncError>();
    const outcomes = await createEach(
      this.client,
      "party.party",
      newParties.map((d) => ({
        name: d.party.name,
        contact_mechanisms: [
          [
            "create",
            [
              { type: "email", value: d.party.email },
              ...(d.party.phone ? [{ type: "phone", value: d.party.phone }] : []),
            ],
          ],
        ],
      })),
    );
    newParties.forEach((d, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) partyByEmail.set(d.party.emailKey, outcome.value);
      else if (outcome) {
        refused.set(d.party.emailKey, {
          code: outcome.error.code,
          field: "customer_email",
          message: `Tryton refused to create the customer ${d.party.email}: ${outcome.error.serverMessage}`,
        });
      }
    });
    await this.keepOldestParties(
      newParties.map((d) => d.party.emailKey),
      partyByEmail,
    );

    // Addresses of the parties.
    const addressByKey = new Map<string, number>();
    const known = [...new Set(partyByEmail.values())];
    if (known.length) {
      const rows = await this.client.searchRead("party.address", [["party", "in", known]], addressFields, {
        order: [["id", "ASC"]],
      });
      for (const r of rows) {
        const key = storedKey(r);
        if (!addressByKey.has(key)) addressByKey.set(key, r.id);
      }
    }

    // Missing addresses, each once.
    const toCreate = new Map<string, AddressValues & { party: number; field: string }>();
    for (const d of usable) {
      const party = partyByEmail.get(d.party.emailKey);
      if (party === undefined) continue;
      for (const a of addressesOf(d)) {
        const values = valuesOf(a);
        const key = addressKey(party, values);
        if (!addressByKey.has(key) && !toCreate.has(key))
          toCreate.set(key, { party, field: a.field, ...values });
      }
    }
    const entries = [...toCreate.entries()];
    const created = await createEach(
      this.client,
      "party.address",
      entries.map(([, { field: _field, ...v }]) => v),
    );
    entries.forEach(([key, v], i) => {
      const outcome = created[i];
      if (outcome?.ok) addressByKey.set(key, outcome.value);
      else if (outcome) {
        refused.set(key, {
          code: outcome.error.code,
          field: v.field,
          message: `Tryton refused the address (${v.field}): ${outcome.error.serverMessage}`,
        });
      }
    });

    for (const d of usable) {
      const party = partyByEmail.get(d.party.emailKey);
      const keys = party === undefined ? [] : addressesOf(d).map((a) => addressKey(party, valuesOf(a)));
      const problem =
        party === undefined ? refused.get(d.party.emailKey) : keys.map((k) => refused.get(k)).find(Boolean);
      if (party === undefined || problem) {
        const error = problem ?? { code: "user_error", message: "Tryton refused the customer" };
        failures.set(d.orderId, { ...error, message: `Magento order #${d.incrementId}: ${error.message}` });
        continue;
      }
      const id = (a: AddressDraft) => addressByKey.get(addressKey(party, valuesOf(a))) as number;
      resolved.set(d.orderId, {
        party,
        invoiceAddress: id(d.invoiceAddress),
        shipmentAddress: id(d.shipmentAddress),
      });
    }
    return { resolved, failures };
  }

  /** The oldest party per e-mail (lower-case keys). */
  private async partiesByEmail(emailKeys: string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    const rows = await this.client.searchRead(
      "party.contact_mechanism",
      emailDomain(emailKeys),
      ["value", "party"],
      {
        order: [["party", "ASC"]],
      },
    );
    const wanted = new Set(emailKeys);
    for (const r of rows) {
      const key = text(r.value).toLowerCase();
      // Rows come oldest party first: the oldest wins.
      if (wanted.has(key) && !found.has(key)) found.set(key, r.party as number);
    }
    return found;
  }

  /**
   * Another runtime may have created a party for the same e-mail meanwhile (Tryton has no
   * unique key on parties): a party created here that is not the oldest for its e-mail is
   * deleted again before anything points to it, and the oldest is used.
   */
  private async keepOldestParties(created: string[], partyByEmail: Map<string, number>): Promise<void> {
    const mine = created.filter((key) => partyByEmail.has(key));
    if (mine.length === 0) return;
    const oldest = await this.partiesByEmail(mine);
    for (const key of mine) {
      const own = partyByEmail.get(key) as number;
      const first = oldest.get(key);
      if (first === undefined || first === own) continue;
      try {
        await this.client.delete("party.party", [own]);
      } catch (err) {
        if (!isRecordError(err)) throw err;
      }
      partyByEmail.set(key, first);
    }
  }
}
