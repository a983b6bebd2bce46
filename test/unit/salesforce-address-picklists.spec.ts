/**
 * Orgs with State and Country/Territory Picklists: the simulator's picklist fields and rules,
 * the setup check's reading of them, and the push writing addresses as codes.
 */
import assert from "node:assert/strict";
import type { Connection } from "jsforce";
import { shippingAddress, type MagentoAddress, type MagentoOrder } from "../../src/magento/schema";
import { contentHash, mapOrder, stateCodeOf, withAddressCodes } from "../../src/salesforce/order-mapping";
import type { PushSummary } from "../../src/salesforce/order-pusher";
import { pushSettings } from "../../src/salesforce/settings";
import { addressCodesOf } from "../../src/salesforce/setup-check";
import { DEFAULT_ADDRESS_PICKLISTS, type SalesforceSimulator } from "../../src/sandbox/salesforce";
import {
  apiCallsOf,
  byKey,
  clone,
  orders,
  pusher,
  session,
  simulator,
  stopAll,
  type Rec,
} from "./salesforce-fixtures";

type Result = {
  success: boolean;
  id?: string;
  errors: { statusCode: string; message: string; fields: string[] }[];
};

function actions(summary: PushSummary): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of summary.results) out[r.action] = (out[r.action] ?? 0) + 1;
  return out;
}

async function connect(sim: SalesforceSimulator): Promise<Connection> {
  return session(sim).connection();
}

/** sObject Collections create with allOrNone false: one result per record. */
async function create(conn: Connection, type: string, records: Rec[]): Promise<Result[]> {
  return conn.requestPost(`/services/data/v${conn.version}/composite/sobjects`, {
    allOrNone: false,
    records: records.map((r) => ({ attributes: { type }, ...r })),
  });
}

async function describeOf(conn: Connection, type: string) {
  return (await conn.request(`/services/data/v${conn.version}/sobjects/${type}/describe`)) as {
    fields: {
      name: string;
      type: string;
      controllerName: string | null;
      dependentPicklist: boolean;
      picklistValues: { value: string; label: string; active: boolean; validFor: string | null }[];
    }[];
  };
}

const US = DEFAULT_ADDRESS_PICKLISTS.states.US;
const CA = DEFAULT_ADDRESS_PICKLISTS.states.CA;

function withAddress(order: MagentoOrder, changes: Partial<MagentoAddress>, entityId: number): MagentoOrder {
  const copy = clone(order);
  copy.entity_id = entityId;
  copy.increment_id = `9${entityId}`;
  copy.customer_email = `picklist-${entityId}@example.com`;
  for (const a of [copy.billing_address, shippingAddress(copy)]) {
    if (!a) continue;
    delete a.region;
    delete a.region_code;
    Object.assign(a, changes);
  }
  return copy;
}

/** The state code Salesforce should hold for a Magento address (default picklists). */
function expectedState(a: MagentoAddress | undefined): string | null {
  const country = a?.country_id?.toUpperCase();
  const states = country ? DEFAULT_ADDRESS_PICKLISTS.states[country] : undefined;
  if (!a || !states) return null;
  if (a.region_code && states[a.region_code.toUpperCase()]) return a.region_code.toUpperCase();
  const byName = Object.keys(states).find((c) => states[c].toLowerCase() === a.region?.toLowerCase());
  return byName ?? null;
}

function assertAddress(row: Rec, prefix: string, a: MagentoAddress | undefined, what: string) {
  const country = a?.country_id?.toUpperCase() ?? null;
  const state = expectedState(a);
  assert.equal(row[`${prefix}CountryCode`], country, `${what}: ${prefix}CountryCode`);
  assert.equal(
    row[`${prefix}Country`],
    country ? DEFAULT_ADDRESS_PICKLISTS.countries[country] : null,
    `${what}: ${prefix}Country`,
  );
  assert.equal(row[`${prefix}StateCode`], state, `${what}: ${prefix}StateCode`);
  assert.equal(
    row[`${prefix}State`],
    state && country ? DEFAULT_ADDRESS_PICKLISTS.states[country][state] : null,
    `${what}: ${prefix}State`,
  );
  assert.equal(row[`${prefix}City`], a?.city ?? null, `${what}: ${prefix}City`);
}

function assertAddressesInSalesforce(sim: SalesforceSimulator, list: MagentoOrder[]) {
  const sfOrders = byKey(sim.db.records("Order"), "Magento_Order_Key__c");
  const accounts = byKey(sim.db.records("Account"), "Magento_Customer_Key__c");
  const contacts = byKey(sim.db.records("Contact"), "Magento_Customer_Key__c");
  // A customer's Account and Contact carry the last order's addresses.
  const last = new Map<string, MagentoOrder>();
  for (const o of list) last.set(`email:${o.customer_email.toLowerCase()}`, o);
  for (const o of list) {
    const sf = sfOrders.get(`magento-${o.entity_id}`) as Rec;
    assert.ok(sf, `order #${o.increment_id} is in Salesforce`);
    assertAddress(sf, "Billing", o.billing_address, `Order #${o.increment_id}`);
    if (shippingAddress(o)) assertAddress(sf, "Shipping", shippingAddress(o), `Order #${o.increment_id}`);
  }
  for (const [key, o] of last) {
    assertAddress(accounts.get(key) as Rec, "Billing", o.billing_address, `Account ${key}`);
    assertAddress(
      accounts.get(key) as Rec,
      "Shipping",
      shippingAddress(o) ?? o.billing_address,
      `Account ${key}`,
    );
    assertAddress(contacts.get(key) as Rec, "Mailing", o.billing_address, `Contact ${key}`);
  }
}

describe("State and Country/Territory Picklists", function () {
  this.timeout(120_000);
  afterEach(stopAll);

  describe("simulator", () => {
    it("describe lists the code picklists (state dependent on country, validFor per country) only when on", async () => {
      const off = await connect(await simulator());
      const plain = await describeOf(off, "Account");
      assert.ok(!plain.fields.some((f) => f.name.endsWith("CountryCode")));
      const on = await connect(await simulator({ addressPicklists: true }));
      for (const [type, prefixes] of Object.entries({
        Account: ["Billing", "Shipping"],
        Contact: ["Mailing"],
        Order: ["Billing", "Shipping"],
      })) {
        const d = await describeOf(on, type);
        for (const prefix of prefixes) {
          const country = d.fields.find((f) => f.name === `${prefix}CountryCode`);
          const state = d.fields.find((f) => f.name === `${prefix}StateCode`);
          assert.equal(country?.type, "picklist", `${type}.${prefix}CountryCode`);
          assert.equal(state?.controllerName, `${prefix}CountryCode`);
          assert.equal(state?.dependentPicklist, true);
          assert.ok(country?.picklistValues.some((v) => v.value === "US" && v.label === "United States"));
        }
      }
      const codes = addressCodesOf((await describeOf(on, "Account")) as never);
      assert.ok(codes);
      assert.equal(codes.states.get("US")?.get("NY"), "New York");
      assert.equal(codes.states.get("CA")?.get("ON"), "Ontario");
      assert.equal(codes.states.get("AU")?.get("WA"), "Western Australia");
      assert.equal(codes.states.get("US")?.get("WA"), "Washington");
      assert.equal(codes.states.get("US")?.has("ON"), false);
      assert.equal(codes.states.has("DE"), false);
      assert.ok(codes.countries.has("DE"));
    });

    it("syncs codes and names, and refuses what is not in the picklists with FIELD_INTEGRITY_EXCEPTION", async () => {
      const sim = await simulator({ addressPicklists: true });
      const conn = await connect(sim);
      const results = await create(conn, "Account", [
        { Name: "Codes", BillingCountryCode: "US", BillingStateCode: "CA" },
        { Name: "Names", BillingCountry: "Canada", BillingState: "ontario" },
        { Name: "No states", BillingCountryCode: "DE", BillingCity: "Berlin" },
        { Name: "Unknown country", BillingCountryCode: "ZZ" },
        { Name: "Text code", BillingCountry: "US" },
        { Name: "State of another country", BillingCountryCode: "US", BillingStateCode: "ON" },
        { Name: "Unknown state", BillingCountryCode: "DE", BillingStateCode: "BY" },
        { Name: "State text", BillingCountryCode: "US", BillingState: "Calif." },
        { Name: "Code and name disagree", BillingCountryCode: "US", BillingCountry: "Canada" },
      ]);
      assert.deepEqual(
        results.slice(0, 3).map((r) => r.success),
        [true, true, true],
      );
      const row = (id: string | undefined) => sim.db.get(id as string) as Rec;
      assert.deepEqual(
        [row(results[0].id).BillingCountry, row(results[0].id).BillingState],
        ["United States", "California"],
      );
      assert.deepEqual(
        [
          row(results[1].id).BillingCountryCode,
          row(results[1].id).BillingStateCode,
          row(results[1].id).BillingState,
        ],
        ["CA", "ON", "Ontario"],
      );
      assert.equal(row(results[2].id).BillingCountry, "Germany");
      const errors = results.slice(3).map((r) => r.errors[0]);
      assert.ok(results.slice(3).every((r) => !r.success));
      assert.ok(errors.every((e) => e.statusCode === "FIELD_INTEGRITY_EXCEPTION"));
      assert.deepEqual(
        errors.map((e) => e.fields),
        [
          ["BillingCountryCode"],
          ["BillingCountry"],
          ["BillingStateCode"],
          ["BillingStateCode"],
          ["BillingState"],
          ["BillingCountry"],
        ],
      );
      assert.equal(
        errors[0].message,
        "The BillingCountryCode field contains ZZ, which isn't an available country/territory.",
      );
      assert.match(
        errors[1].message,
        /^There's a problem with this country, even though it may appear correct\./,
      );
      assert.equal(errors[2].message, "The existing country/territory doesn't recognize the state value");
      assert.match(errors[3].message, /contains BY, which isn't an available state/);
      assert.equal(sim.db.count("Account"), 3);

      // Removing the country removes the state; a new country keeps no state of the old one.
      const id = results[0].id as string;
      await conn.sobject("Account").update({ Id: id, BillingCountryCode: null });
      assert.deepEqual(
        [row(id).BillingCountry, row(id).BillingStateCode, row(id).BillingState],
        [null, null, null],
      );
      await conn.sobject("Account").update({ Id: id, BillingCountryCode: "US", BillingStateCode: "NY" });
      const moved = await conn
        .sobject("Account")
        .update({ Id: id, BillingCountryCode: "CA" })
        .catch((e: unknown) => e);
      assert.equal((moved as { errorCode?: string }).errorCode, "FIELD_INTEGRITY_EXCEPTION");
      assert.equal(row(id).BillingCountryCode, "US", "nothing saved");
    });

    it("without picklists keeps plain text addresses (ISO codes accepted as text)", async () => {
      const sim = await simulator();
      const conn = await connect(sim);
      const [r] = await create(conn, "Account", [
        { Name: "Text", BillingCountry: "US", BillingState: "Calif." },
      ]);
      assert.equal(r.success, true);
      assert.equal((sim.db.get(r.id as string) as Rec).BillingState, "Calif.");
    });
  });

  describe("push", () => {
    it("the setup check reads the picklists and warns that codes are written", async () => {
      const plain = await pusher(await simulator()).checkSetup();
      assert.equal(plain.addressCodes, undefined);
      assert.ok(!plain.warnings.some((w) => /Picklists/.test(w)));
      const setup = await pusher(await simulator({ addressPicklists: true })).checkSetup();
      assert.ok(setup.addressCodes?.countries.has("US"));
      assert.equal(setup.addressCodes?.states.get("US")?.get("CA"), "California");
      const warning = setup.warnings.find((w) => /State and Country\/Territory Picklists/.test(w));
      assert.ok(warning, setup.warnings.join("\n"));
      assert.match(warning, /ISO codes/);
      assert.match(warning, /BillingStateCode/);
    });

    it("writes US and Canadian states and countries without states as codes; an unchanged re-sync costs only the lookup", async () => {
      const sim = await simulator({ addressPicklists: true });
      const push = pusher(sim);
      const seed = orders(60, 7);
      const extra = [
        withAddress(
          seed[0],
          { country_id: "CA", region_code: "ON", region: "Ontario", city: "Toronto" },
          9001,
        ),
        withAddress(seed[1], { country_id: "CA", region: "Quebec", city: "Montréal" }, 9002),
        withAddress(seed[2], { country_id: "US", region_code: "ZZ", region: "Nowhere" }, 9003),
        withAddress(
          seed[3],
          { country_id: "DE", region: "Bayern", region_code: "BY", city: "München" },
          9004,
        ),
        withAddress(seed[4], { country_id: "US", region_code: "tx", city: "Austin" }, 9005),
      ];
      const list = [...seed, ...extra];
      const countries = new Set(list.map((o) => o.billing_address?.country_id));
      assert.ok(
        ["US", "CA", "DE", "FR", "JP"].every((c) => countries.has(c)),
        [...countries].join(),
      );
      const first = await push.push(list);
      assert.deepEqual(actions(first), { created: list.length }, JSON.stringify(first.failures[0]?.error));
      assertAddressesInSalesforce(sim, list);
      const byOrderKey = byKey(sim.db.records("Order"), "Magento_Order_Key__c");
      assert.equal(byOrderKey.get("magento-9001")?.BillingState, "Ontario");
      assert.equal(byOrderKey.get("magento-9002")?.BillingStateCode, "QC");
      assert.equal(byOrderKey.get("magento-9003")?.BillingStateCode, null, "an unknown region is left out");
      assert.equal(byOrderKey.get("magento-9004")?.BillingCountry, "Germany");
      assert.equal(byOrderKey.get("magento-9005")?.BillingStateCode, "TX");

      const again = await apiCallsOf(sim, () => push.push(list));
      assert.deepEqual(actions(again.value), { unchanged: list.length });
      assert.equal(again.calls, 1, "the lookup only: no Account or Contact rewritten");
    });

    it("with Accounts and products in place, 200 new orders cost one lookup and one write composite", async () => {
      const sim = await simulator({ addressPicklists: true });
      const list = orders(400, 9);
      const push = pusher(sim, { syncNotes: false });
      await push.push(list.slice(0, 200));
      const page = list.slice(200);
      const accounts = sim.db.count("Account");
      const { value, calls } = await apiCallsOf(sim, () => push.push(page));
      assert.deepEqual(actions(value), { created: 200 });
      assert.equal(sim.db.count("Account"), accounts);
      assert.equal(calls, 2, "one composite lookup (Orders, Accounts, Contacts) and one composite write");
      assertAddressesInSalesforce(sim, list);
    });

    it("an order from a country the picklist does not have fails alone, naming the field", async () => {
      const sim = await simulator({
        addressPicklists: { countries: { US: "United States" }, states: { US } },
      });
      const seed = orders(30, 7);
      const us = seed.filter(
        (o) => o.billing_address?.country_id === "US" && shippingAddress(o)?.country_id === "US",
      );
      const other = seed.find((o) => o.billing_address?.country_id !== "US") as MagentoOrder;
      assert.ok(us.length > 0 && other);
      const summary = await pusher(sim).push([...us, other]);
      assert.deepEqual(actions(summary), { created: us.length, failed: 1 });
      const failure = summary.failures[0];
      assert.equal(failure.error?.code, "country_unavailable");
      assert.equal(failure.error?.field, "billing_address.country_id");
      assert.match(failure.error?.message ?? "", /not an active country\/territory/);
    });

    it("the content hash does not change for orgs without picklists", () => {
      const settings = pushSettings({});
      const [o] = orders(5, 7);
      const wanted = mapOrder(o, settings);
      const extra = {
        status: "Draft",
        pricebookId: "01s000000000001AAA",
        customerKey: wanted.customer.key,
        contacts: true,
      };
      // The hash of this order before picklist support was added.
      assert.equal(contentHash(wanted, extra), "571045b0a89cf9d66aac6aeb339a799c10d380a8");
      assert.ok(!Object.keys(wanted.fields).some((k) => /(Country|State)Code$/.test(k)));
      const codes = addressCodesOf({
        name: "Account",
        createable: true,
        fields: [],
      } as never);
      assert.equal(codes, undefined);
      const coded = withAddressCodes(o, wanted, {
        countries: new Set(Object.keys(DEFAULT_ADDRESS_PICKLISTS.countries)),
        states: new Map([
          ["US", new Map(Object.entries(US))],
          ["CA", new Map(Object.entries(CA))],
        ]),
      });
      assert.ok(!("BillingCountry" in coded.fields) && !("BillingState" in coded.customer.account));
      assert.equal(coded.customer.contact.MailingCountryCode, o.billing_address?.country_id);
      assert.notEqual(contentHash(coded, extra), contentHash(wanted, extra));
    });

    it("picks the state by region code, else by region name", () => {
      const codes = {
        countries: new Set(["US", "CA"]),
        states: new Map([["US", new Map(Object.entries(US))]]),
      };
      assert.equal(stateCodeOf({ region_code: "NY", region: "New York" }, "US", codes), "NY");
      assert.equal(stateCodeOf({ region_code: "ny" }, "US", codes), "NY");
      assert.equal(stateCodeOf({ region: "new york" }, "US", codes), "NY");
      assert.equal(stateCodeOf({ region_code: "XX", region: "Elsewhere" }, "US", codes), undefined);
      assert.equal(
        stateCodeOf({ region_code: "ON" }, "CA", codes),
        undefined,
        "no states set up for CA here",
      );
      assert.equal(stateCodeOf({ region_code: "NY" }, undefined, codes), undefined);
    });
  });
});
