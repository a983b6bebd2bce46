import assert from "node:assert/strict";
import { buildSearchQuery, encodeQuery, keysetCriteria, maxPageSize } from "../../src/magento/search";

/** reference/magento-rest.md §6, copied verbatim. */
const referenceKeysetQuery = `?searchCriteria[filter_groups][0][filters][0][field]=updated_at
&searchCriteria[filter_groups][0][filters][0][value]=2024-01-01%2010:00:00
&searchCriteria[filter_groups][0][filters][0][condition_type]=gt
&searchCriteria[filter_groups][0][filters][1][field]=updated_at
&searchCriteria[filter_groups][0][filters][1][value]=2024-01-01%2010:00:00
&searchCriteria[filter_groups][0][filters][1][condition_type]=eq
&searchCriteria[filter_groups][1][filters][0][field]=updated_at
&searchCriteria[filter_groups][1][filters][0][value]=2024-01-01%2010:00:00
&searchCriteria[filter_groups][1][filters][0][condition_type]=gt
&searchCriteria[filter_groups][1][filters][1][field]=entity_id
&searchCriteria[filter_groups][1][filters][1][value]=1234
&searchCriteria[filter_groups][1][filters][1][condition_type]=gt
&searchCriteria[sortOrders][0][field]=updated_at&searchCriteria[sortOrders][0][direction]=ASC
&searchCriteria[sortOrders][1][field]=entity_id&searchCriteria[sortOrders][1][direction]=ASC
&searchCriteria[pageSize]=100&searchCriteria[currentPage]=1`;

function decodedPairs(query: string): Array<[string, string]> {
  return query
    .replace(/^\?/, "")
    .replace(/\n/g, "")
    .split("&")
    .map((kv) => {
      const [k, v] = kv.split("=");
      return [decodeURIComponent(k), decodeURIComponent(v)];
    });
}

describe("Magento search criteria (magento/search.ts)", () => {
  it("builds the keyset query of reference §6, pair for pair and in order", () => {
    const criteria = keysetCriteria({ updatedAt: "2024-01-01 10:00:00", entityId: 1234 }, 100);
    const sent = encodeQuery(buildSearchQuery(criteria));
    assert.deepEqual(decodedPairs(sent), decodedPairs(referenceKeysetQuery));
  });

  it("encodes RFC 3986: brackets, spaces, colons, commas and percent signs", () => {
    const sent = encodeQuery({
      "a[b]": "2024-01-01 10:00:00",
      list: "processing,complete",
      like: "100%",
      q: "it's (new)!",
    });
    assert.equal(
      sent,
      "a%5Bb%5D=2024-01-01%2010%3A00%3A00&list=processing%2Ccomplete&like=100%25&q=it%27s%20%28new%29%21",
    );
  });

  it("starts from the beginning without keyset groups, still sorted ascending on both keys", () => {
    const q = buildSearchQuery(keysetCriteria(null, 50));
    assert.deepEqual(q, {
      "searchCriteria[sortOrders][0][field]": "updated_at",
      "searchCriteria[sortOrders][0][direction]": "ASC",
      "searchCriteria[sortOrders][1][field]": "entity_id",
      "searchCriteria[sortOrders][1][direction]": "ASC",
      "searchCriteria[pageSize]": "50",
      "searchCriteria[currentPage]": "1",
    });
  });

  it("ANDs extra groups after the keyset groups", () => {
    const q = buildSearchQuery(
      keysetCriteria({ updatedAt: "2024-01-01 10:00:00", entityId: 1 }, 20, [
        { filters: [{ field: "status", value: ["processing", "complete"], conditionType: "in" }] },
      ]),
    );
    assert.equal(q["searchCriteria[filter_groups][2][filters][0][field]"], "status");
    assert.equal(q["searchCriteria[filter_groups][2][filters][0][value]"], "processing,complete");
    assert.equal(q["searchCriteria[filter_groups][2][filters][0][condition_type]"], "in");
  });

  it("keeps the page size within Magento's 300 limit", () => {
    assert.equal(keysetCriteria(null, 1000).pageSize, maxPageSize);
    assert.equal(keysetCriteria(null, 0).pageSize, 1);
  });

  it("sends the mandatory searchCriteria parameter even when empty", () => {
    assert.deepEqual(buildSearchQuery({}), { searchCriteria: "" });
    assert.equal(
      buildSearchQuery({ filterGroups: [{ filters: [{ field: "customer_id", conditionType: "null" }] }] })[
        "searchCriteria[filter_groups][0][filters][0][condition_type]"
      ],
      "null",
    );
  });
});
