/**
 * State and Country/Territory Picklists (an org setting, off by default in the simulator).
 * When on, Account (Billing, Shipping), Contact (Mailing) and Order (Billing, Shipping) get
 * `<prefix>CountryCode` and `<prefix>StateCode` picklists (the state one dependent on the
 * country one, `validFor` bitmaps in describe), and every write of an address is checked and
 * synced as Salesforce's "Field-Syncing Logic" help page describes:
 * - a valid code sets the text field to the integration value (here: the label);
 * - a valid text (integration value) sets the code;
 * - removing the country code removes the state code and both texts;
 * - a state that is not a state of the record's country: no change saved, an error.
 * Codes and texts that match no entry are refused with FIELD_INTEGRITY_EXCEPTION.
 * Messages: the code ones are quoted from integrators' support pages (StoreConnect), the
 * country-text one from API errors reported on GitHub (formie #963, NPSP #994), the
 * state/country mismatch from NPSP #2432; texts marked (unverified) are not from a published source.
 */
import { RecordError } from "./errors";

export interface AddressPicklists {
  /** Country/territory ISO code → integration value (= label here), in picklist order. */
  countries: Record<string, string>;
  /** Country code → its states: state code → integration value. Countries without states are absent. */
  states: Record<string, Record<string, string>>;
}

export interface PicklistEntry {
  value: string;
  label: string;
  /** Dependent picklists: base64 bitmap of the controlling values this entry is valid for. */
  validFor: string | null;
}

/** The address prefixes that carry picklists, per object. */
export const ADDRESS_PREFIXES: Record<string, string[]> = {
  Account: ["Billing", "Shipping"],
  Contact: ["Mailing"],
  Order: ["Billing", "Shipping"],
};

/**
 * A subset of Salesforce's 235 standard countries (ISO codes and names from the help page
 * "Standard Countries and Territories for Address Picklists"), covering the simulator's Magento
 * seed data; states for some of the countries Salesforce ships states for (US, CA, AU, JP, CN,
 * MX — the state lists are shortened, JP/CN codes are the ISO 3166-2 numbers (unverified)).
 */
export const DEFAULT_ADDRESS_PICKLISTS: AddressPicklists = {
  countries: {
    AT: "Austria",
    AU: "Australia",
    BE: "Belgium",
    BR: "Brazil",
    CA: "Canada",
    CH: "Switzerland",
    CN: "China",
    DE: "Germany",
    DK: "Denmark",
    ES: "Spain",
    FI: "Finland",
    FR: "France",
    GB: "United Kingdom",
    IE: "Ireland",
    IN: "India",
    IT: "Italy",
    JP: "Japan",
    MX: "Mexico",
    NL: "Netherlands",
    NO: "Norway",
    NZ: "New Zealand",
    PL: "Poland",
    PT: "Portugal",
    SE: "Sweden",
    US: "United States",
  },
  states: {
    US: {
      AL: "Alabama",
      AK: "Alaska",
      AZ: "Arizona",
      AR: "Arkansas",
      CA: "California",
      CO: "Colorado",
      CT: "Connecticut",
      DE: "Delaware",
      DC: "District of Columbia",
      FL: "Florida",
      GA: "Georgia",
      HI: "Hawaii",
      ID: "Idaho",
      IL: "Illinois",
      IN: "Indiana",
      IA: "Iowa",
      KS: "Kansas",
      KY: "Kentucky",
      LA: "Louisiana",
      ME: "Maine",
      MD: "Maryland",
      MA: "Massachusetts",
      MI: "Michigan",
      MN: "Minnesota",
      MS: "Mississippi",
      MO: "Missouri",
      MT: "Montana",
      NE: "Nebraska",
      NV: "Nevada",
      NH: "New Hampshire",
      NJ: "New Jersey",
      NM: "New Mexico",
      NY: "New York",
      NC: "North Carolina",
      ND: "North Dakota",
      OH: "Ohio",
      OK: "Oklahoma",
      OR: "Oregon",
      PA: "Pennsylvania",
      RI: "Rhode Island",
      SC: "South Carolina",
      SD: "South Dakota",
      TN: "Tennessee",
      TX: "Texas",
      UT: "Utah",
      VT: "Vermont",
      VA: "Virginia",
      WA: "Washington",
      WV: "West Virginia",
      WI: "Wisconsin",
      WY: "Wyoming",
    },
    CA: {
      AB: "Alberta",
      BC: "British Columbia",
      MB: "Manitoba",
      NB: "New Brunswick",
      NL: "Newfoundland and Labrador",
      NS: "Nova Scotia",
      NT: "Northwest Territories",
      NU: "Nunavut",
      ON: "Ontario",
      PE: "Prince Edward Island",
      QC: "Quebec",
      SK: "Saskatchewan",
      YT: "Yukon Territories",
    },
    AU: {
      ACT: "Australian Capital Territory",
      NSW: "New South Wales",
      NT: "Northern Territory",
      QLD: "Queensland",
      SA: "South Australia",
      TAS: "Tasmania",
      VIC: "Victoria",
      WA: "Western Australia",
    },
    JP: { "13": "Tokyo", "26": "Kyoto", "27": "Osaka" },
    CN: { "11": "Beijing", "31": "Shanghai" },
    MX: { CMX: "Ciudad de México", JAL: "Jalisco", NL: "Nuevo León" },
  },
};

/** The simulator option → the org's lists (`true`: the default lists; a partial: merged over them). */
export function addressPicklistsOf(
  option: boolean | Partial<AddressPicklists> | undefined,
): AddressPicklists | undefined {
  if (!option) return undefined;
  if (option === true) return DEFAULT_ADDRESS_PICKLISTS;
  return {
    countries: option.countries ?? DEFAULT_ADDRESS_PICKLISTS.countries,
    states: option.states ?? (option.countries ? {} : DEFAULT_ADDRESS_PICKLISTS.states),
  };
}

export function countryEntries(lists: AddressPicklists): PicklistEntry[] {
  return Object.entries(lists.countries).map(([value, label]) => ({ value, label, validFor: null }));
}

/**
 * One entry per (country, state): the same code in two countries (WA: Washington, Western
 * Australia) is two entries with their own `validFor` (unverified: how describe lists them).
 * `validFor`: bit i (most significant bit first) set when valid for the i-th country entry.
 */
export function stateEntries(lists: AddressPicklists): PicklistEntry[] {
  const countries = Object.keys(lists.countries);
  const entries: PicklistEntry[] = [];
  for (const [country, states] of Object.entries(lists.states)) {
    const index = countries.indexOf(country);
    if (index < 0) continue;
    const bits = Buffer.alloc(Math.max(1, Math.ceil(countries.length / 8)));
    bits[index >> 3] |= 0x80 >> (index & 7);
    const validFor = bits.toString("base64");
    for (const [value, label] of Object.entries(states)) entries.push({ value, label, validFor });
  }
  return entries;
}

const same = (a: unknown, b: string): boolean => String(a).toLowerCase() === b.toLowerCase();

function codeOfLabel(list: Record<string, string>, text: unknown): string | undefined {
  return Object.keys(list).find((code) => same(text, list[code]));
}

const integrity = (message: string, field: string): RecordError =>
  new RecordError("FIELD_INTEGRITY_EXCEPTION", message, [field]);

// REST API message for MailingCountry / Lead Country ("…: Country" in the REST body; the suffix
// being the field label is (unverified)).
const countryProblem = (field: string, label: string): RecordError =>
  integrity(
    `There's a problem with this country, even though it may appear correct. Please select a country/territory from the list of valid countries.: ${label}`,
    field,
  );

// (unverified) text, by analogy with the country message.
const stateProblem = (field: string, label: string): RecordError =>
  integrity(
    `There's a problem with this state, even though it may appear correct. Please select a state from the list of valid states.: ${label}`,
    field,
  );

const stateNotInCountry = (field: string): RecordError =>
  integrity("The existing country/territory doesn't recognize the state value", field);

/**
 * Checks and syncs the address fields of a record being written. `changed(name)` tells
 * whether the write sets that field (insert: present; update: a new value).
 */
export function applyAddressPicklists(
  lists: AddressPicklists,
  objectName: string,
  next: Record<string, unknown>,
  changed: (name: string) => boolean,
  labelOf: (name: string) => string,
): void {
  for (const prefix of ADDRESS_PREFIXES[objectName] ?? []) {
    const cc = `${prefix}CountryCode`;
    const c = `${prefix}Country`;
    const sc = `${prefix}StateCode`;
    const s = `${prefix}State`;
    const stateCode = changed(sc) ? (next[sc] ?? null) : undefined;
    const stateText = changed(s) ? (next[s] ?? null) : undefined;
    let countryChanged = false;
    if (changed(cc) && next[cc] != null) {
      const code = String(next[cc]);
      const label = lists.countries[code];
      if (label === undefined)
        throw integrity(`The ${cc} field contains ${code}, which isn't an available country/territory.`, cc);
      if (changed(c) && next[c] != null && !same(next[c], label)) throw countryProblem(c, labelOf(c));
      next[c] = label;
      countryChanged = true;
    } else if (changed(c) && next[c] != null) {
      const code = codeOfLabel(lists.countries, next[c]);
      if (code === undefined) throw countryProblem(c, labelOf(c));
      next[cc] = code;
      next[c] = lists.countries[code];
      countryChanged = true;
    } else if (changed(cc) || changed(c)) {
      // Country removed: the state goes with it.
      Object.assign(next, { [cc]: null, [c]: null, [sc]: null, [s]: null });
      countryChanged = true;
    }
    const country = next[cc] == null ? undefined : String(next[cc]);
    const states = (country && lists.states[country]) || {};
    if (stateCode != null) {
      const code = String(stateCode);
      const label = states[code];
      if (label === undefined) {
        const elsewhere = Object.values(lists.states).some((list) => list[code] !== undefined);
        if (elsewhere) throw stateNotInCountry(sc);
        throw integrity(
          `The ${sc} field contains ${code}, which isn't an available state. Your administrator can add it for you.`,
          sc,
        );
      }
      if (stateText != null && !same(stateText, label)) throw stateProblem(s, labelOf(s));
      next[sc] = code;
      next[s] = label;
    } else if (stateText != null) {
      const code = codeOfLabel(states, stateText);
      if (code === undefined) throw stateProblem(s, labelOf(s));
      next[sc] = code;
      next[s] = states[code];
    } else if (stateCode === null || stateText === null) {
      next[sc] = null;
      next[s] = null;
    } else if (countryChanged && next[sc] != null && states[String(next[sc])] === undefined) {
      throw stateNotInCountry(sc);
    }
  }
}
