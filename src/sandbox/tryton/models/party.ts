/**
 * `party.party`, `party.address`, `party.contact_mechanism` as trytond 6.0's party module
 * (plus the `invoice` / `delivery` address flags of account_invoice and stock, and the
 * party's customer location from stock).
 */
import { UserError } from "../errors";
import type { Rec } from "../orm";
import { defineModel, lstripWildcard, recNameDomain } from "../registry";
import type { ModelDef } from "../schema";
import { boolean, char, fn, integer, many2one, one2many, selection, text } from "../schema";

const CUSTOMER_LOCATION = 7;

const party = defineModel({
  name: "party.party",
  string: "Party",
  order: [
    ["name", "ASC"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    name: char("Name"),
    code: char("Code", { required: true }),
    lang: many2one("ir.lang", "Language"),
    addresses: one2many("party.address", "party", "Addresses"),
    contact_mechanisms: one2many("party.contact_mechanism", "party", "Contact Mechanisms"),
    active: boolean("Active", { default: () => true }),
    replaced_by: many2one("party.party", "Replaced By"),
    customer_location: many2one("stock.location", "Customer Location", { default: () => CUSTOMER_LOCATION }),
    customer_payment_term: many2one("account.invoice.payment_term", "Customer Payment Term"),
    full_name: fn(char("Full Name"), (rec) => rec.recName),
    phone: fn(char("Phone"), (rec) => mechanism(rec, "phone")),
    mobile: fn(char("Mobile"), (rec) => mechanism(rec, "mobile")),
    fax: fn(char("Fax"), (rec) => mechanism(rec, "fax")),
    email: fn(char("E-Mail"), (rec) => mechanism(rec, "email")),
    website: fn(char("Website"), (rec) => mechanism(rec, "website")),
  },
  recName: (rec) => {
    const name = rec.str("name");
    return name ? name : `[${rec.str("code") ?? ""}]`;
  },
  searchRecName: (operator, value) =>
    recNameDomain(operator, [
      ["code", operator, lstripWildcard(value)],
      ["name", operator, value],
      ["contact_mechanisms.rec_name", operator, value],
    ]),
  // party_sequence: a new party without a code gets the next number ("1", "2", …).
  beforeCreate: (env, row) => {
    if (!row.code) row.code = String(env.store.nextSequence("party.party"));
  },
  validate: (env, recs) => {
    for (const rec of recs) {
      const code = rec.get("code");
      for (const row of env.store.table("party.party").values()) {
        if (row.id !== rec.id && row.code === code) throw new UserError("The code on party must be unique.");
      }
    }
  },
});

/** `Party.get_mechanism`: the first active contact mechanism of that type. */
function mechanism(rec: Rec, type: string): string | null {
  for (const m of rec.refs("contact_mechanisms")) {
    if (m.get("type") === type && m.row.active !== false) return m.str("value");
  }
  return null;
}

const address = defineModel({
  name: "party.address",
  string: "Address",
  order: [
    ["party", "ASC"],
    ["sequence", "ASC NULLS FIRST"],
    ["id", "ASC"],
  ],
  deactivable: true,
  fields: {
    party: many2one("party.party", "Party", { required: true, ondelete: "CASCADE" }),
    party_name: char("Party Name"),
    name: char("Building Name"),
    street: text("Street"),
    postal_code: char("Postal Code"),
    city: char("City"),
    country: many2one("country.country", "Country"),
    subdivision: many2one("country.subdivision", "Subdivision", {
      domain: (rec) => [["country", "=", rec.get("country") ?? -1]],
    }),
    active: boolean("Active", { default: () => true }),
    sequence: integer("Sequence"),
    invoice: boolean("Invoice"),
    delivery: boolean("Delivery"),
    full_address: fn(text("Full Address"), (rec) => fullAddress(rec)),
  },
  recName: (rec) => {
    const street = rec.str("street");
    const country = rec.ref("country");
    return [
      partyFullName(rec),
      rec.str("name"),
      street ? rec.env.series.streetInRecName(street) : null,
      rec.str("postal_code"),
      rec.str("city"),
      country && country.exists() ? country.str("code") : null,
    ]
      .filter((x) => x)
      .join(", ");
  },
  searchRecName: (operator, value) =>
    recNameDomain(
      operator,
      ["party", "name", "street", "postal_code", "city", "country"].map((f) => [f, operator, value]),
    ),
  beforeWrite: (_env, recs, values) => {
    if (!("party" in values)) return;
    for (const rec of recs) {
      if (rec.get("party") !== values.party) {
        throw new UserError(`You cannot change the party of address "${rec.recName}".`);
      }
    }
  },
});

function partyFullName(rec: Rec): string {
  const name = rec.str("party_name");
  if (name) return name;
  const p = rec.ref("party");
  return p && p.exists() ? String(p.get("full_name") ?? "") : "";
}

/** party/address.xml formats (language-neutral ones) for the countries the pack meets most. */
const ADDRESS_FORMATS: Record<string, string> = {
  AT: "${party_name}\n${attn}\n${name}\n${street}\n${postal_code} ${city}\n${COUNTRY}",
  AU: "${party_name}\n${attn}\n${name}\n${street}\n${subdivision}\n${CITY} ${SUBDIVISION} ${POSTAL_CODE}\n${COUNTRY}",
  BE: "${attn}\n${party_name}\n${name}\n${street}\n${postal_code} ${city}\n${COUNTRY}",
  CA: "${ATTN}\n${PARTY_NAME}\n${NAME}\n${STREET}\n${CITY} ${SUBDIVISION_CODE} ${POSTAL_CODE}\n${COUNTRY}",
  CH: "${party_name}\n${street}\n${postal_code} ${city}\n${COUNTRY}",
  DE: "${party_name}\n${attn}\n${name}\n${street}\n${postal_code} ${city}\n${COUNTRY}",
  ES: "${party_name}\n${street}\n${postal_code} ${city}\n${subdivision}\n${COUNTRY}",
  FR: "${party_name}\n${attn}\n${name}\n${street}\n${POSTAL_CODE} ${CITY}\n${COUNTRY}",
  GB: "${party_name}\n${street}\n${CITY}\n${postal_code}\n${COUNTRY}",
  IT: "${party_name}\n${attn}\n${name}\n${street}\n${postal_code} ${city} ${SUBDIVISION_CODE}\n${COUNTRY}",
  JP: "${party_name}\n${street}\n${city}, ${SUBDIVISION} ${postal_code}\n${COUNTRY}",
  NL: "${party_name}\n${attn}\n${name}\n${street}\n${postal_code} ${CITY}\n${COUNTRY}",
  US: "${attn}\n${party_name}\n${street}\n${city}, ${subdivision_code} ${postal_code}\n${COUNTRY}",
};
const DEFAULT_ADDRESS_FORMAT =
  "${party_name}\n${name}\n${street}\n${postal_code} ${city}\n${subdivision}\n${COUNTRY}";

/** `Address.get_full_address`: the country's format, blank lines dropped (party name and attn stay empty). */
function fullAddress(rec: Rec): string {
  const subdivision = rec.ref("subdivision");
  const country = rec.ref("country");
  const countryCode = country && country.exists() ? (country.str("code") ?? "") : "";
  let subdivisionCode = subdivision && subdivision.exists() ? (subdivision.str("code") ?? "") : "";
  if (subdivisionCode.includes("-")) subdivisionCode = subdivisionCode.split("-").slice(1).join("-");
  const values: Record<string, string> = {
    party_name: "",
    attn: "",
    name: rec.str("name") ?? "",
    street: rec.str("street") ?? "",
    postal_code: rec.str("postal_code") ?? "",
    city: rec.str("city") ?? "",
    subdivision: subdivision && subdivision.exists() ? (subdivision.str("name") ?? "") : "",
    subdivision_code: subdivisionCode,
    country: country && country.exists() ? (country.str("name") ?? "") : "",
    country_code: countryCode,
  };
  values.zip = values.postal_code!;
  for (const [k, v] of Object.entries({ ...values })) values[k.toUpperCase()] = v.toUpperCase();
  const format = ADDRESS_FORMATS[countryCode] ?? DEFAULT_ADDRESS_FORMAT;
  return format
    .replace(/\$\{(\w+)\}/g, (_, key: string) => values[key] ?? "")
    .split("\n")
    .map((x) => x.trim())
    .filter((x) => x)
    .join("\n");
}

const contactMechanism = defineModel({
  name: "party.contact_mechanism",
  string: "Contact Mechanism",
  order: [
    ["party", "ASC"],
    ["sequence", "ASC NULLS FIRST"],
    ["id", "ASC"],
  ],
  deactivable: true,
  recNameField: "value",
  fields: {
    type: selection(
      "Type",
      [
        ["phone", "Phone"],
        ["mobile", "Mobile"],
        ["fax", "Fax"],
        ["email", "E-Mail"],
        ["website", "Website"],
        ["skype", "Skype"],
        ["sip", "SIP"],
        ["irc", "IRC"],
        ["jabber", "Jabber"],
        ["other", "Other"],
      ],
      { required: true, default: () => "phone" },
    ),
    value: char("Value"),
    name: char("Name"),
    comment: text("Comment"),
    party: many2one("party.party", "Party", { required: true, ondelete: "CASCADE" }),
    active: boolean("Active", { default: () => true }),
    sequence: integer("Sequence"),
    value_compact: fn(char("Value Compact"), (rec) => rec.str("value")),
  },
  recName: (rec) => {
    const p = rec.ref("party");
    const name = rec.str("name") || (p && p.exists() ? p.recName : "");
    return `${name} <${rec.str("value") ?? ""}>`;
  },
  searchRecName: (operator, value) => recNameDomain(operator, [["value", operator, value]]),
  beforeWrite: (_env, recs, values) => {
    if (!("party" in values)) return;
    for (const rec of recs) {
      if (rec.get("party") !== values.party) {
        throw new UserError(`You cannot change the party of contact mechanism "${rec.recName}".`);
      }
    }
  },
});

export const partyModels: ModelDef[] = [party, address, contactMechanism];
