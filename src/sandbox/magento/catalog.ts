/**
 * What the seed generator draws from: products (Luma sample SKUs like the published fixture,
 * plus unicode names), customers and guests, payment and shipping methods, currencies.
 * Prices are in the base currency (USD).
 */
import type { Coupon as CartRule } from "./tax-discounts";

export interface Product {
  id: number;
  sku: string;
  name: string;
  price: number;
  weight?: number;
}

export interface Configurable {
  parentId: number;
  childId: number;
  /** The parent row carries the child's SKU (reference §7.2). */
  sku: string;
  name: string;
  childName: string;
  price: number;
  weight: number;
}

export interface Bundle {
  id: number;
  skuPrefix: string;
  name: string;
  children: Product[];
}

export const simpleProducts: Product[] = [
  { id: 1553, sku: "WS12-M-Orange", name: "Radiant Tee-M-Orange", price: 22, weight: 1 },
  { id: 29, sku: "24-WG082-blue", name: "Sprite Stasis Ball 65 cm", price: 27, weight: 1 },
  { id: 22, sku: "24-WG088", name: "Sprite Foam Roller", price: 19, weight: 1 },
  { id: 2001, sku: "MUG-CAFE-CREME", name: "Café Crème Mug", price: 12.5, weight: 0.4 },
  { id: 2002, sku: "TEA-MATCHA-50G", name: "抹茶 Matcha Tea 50 g", price: 18.9, weight: 0.1 },
  { id: 2003, sku: "PLUSH-NANDU", name: "Ñandú Plush 🐦", price: 24.99, weight: 0.3 },
  { id: 2004, sku: "SOCK-ZEBRA-L", name: "Zebra Socks (L)", price: 9.99, weight: 0.1 },
];

export const virtualProducts: Product[] = [
  { id: 3001, sku: "GIFT-WRAP-SVC", name: "Gift wrapping service", price: 4.5 },
  { id: 3002, sku: "WARRANTY-2Y", name: "Extended warranty, 2 years", price: 29 },
];

export const downloadableProducts: Product[] = [
  { id: 49, sku: "240-LV08", name: "Advanced Pilates & Yoga (Strength)", price: 18 },
  { id: 3003, sku: "EBOOK-KYOTO", name: "京都 Travel Guide (e-book)", price: 14.99 },
];

export const configurables: Configurable[] = [
  {
    parentId: 67,
    childId: 56,
    sku: "MH01-S-Gray",
    name: "Chaz Kangeroo Hoodie",
    childName: "Chaz Kangeroo Hoodie-S-Gray",
    price: 52,
    weight: 1,
  },
  {
    parentId: 1812,
    childId: 1810,
    sku: "WJ12-M-Blue",
    name: "Olivia 1/4 Zip Light Jacket",
    childName: "Olivia 1/4 Zip Light Jacket-M-Blue",
    price: 77,
    weight: 0.8,
  },
];

export const bundles: Bundle[] = [
  {
    id: 51,
    skuPrefix: "24-WG080",
    name: "Sprite Yoga Companion Kit",
    children: [
      { id: 29, sku: "24-WG082-blue", name: "Sprite Stasis Ball 65 cm", price: 27, weight: 1 },
      { id: 21, sku: "24-WG084", name: "Sprite Foam Yoga Brick", price: 5, weight: 0.5 },
      { id: 34, sku: "24-WG086", name: "Sprite Yoga Strap 8 foot", price: 17, weight: 0.3 },
      { id: 22, sku: "24-WG088", name: "Sprite Foam Roller", price: 19, weight: 1 },
    ],
  },
];

export interface Address {
  street: string[];
  city: string;
  region?: string;
  region_code?: string;
  region_id?: number;
  postcode: string;
  country_id: string;
  telephone: string;
  company?: string;
}

export interface Person {
  firstname: string;
  lastname: string;
  email: string;
  address: Address;
  /** Registered customers only. */
  customerId?: number;
  groupId?: number;
}

export const customers: Person[] = [
  {
    customerId: 3,
    groupId: 1,
    firstname: "Jane",
    lastname: "Doe",
    email: "jdoe@example.com",
    address: {
      street: ["123 Oak Ave"],
      city: "Purchase",
      region: "New York",
      region_code: "NY",
      region_id: 43,
      postcode: "10577",
      country_id: "US",
      telephone: "512-555-1111",
    },
  },
  {
    customerId: 11,
    groupId: 1,
    firstname: "José",
    lastname: "Álvarez",
    email: "jose.alvarez@example.es",
    address: {
      street: ["Calle de Alcalá 42", "3º B"],
      city: "Madrid",
      region: "Madrid",
      region_code: "Madrid",
      region_id: 161,
      postcode: "28014",
      country_id: "ES",
      telephone: "+34 910 000 111",
    },
  },
  {
    customerId: 12,
    groupId: 1,
    firstname: "太郎",
    lastname: "山田",
    email: "taro.yamada@example.jp",
    address: {
      street: ["中京区寺町通 123"],
      city: "京都市",
      region: "京都府",
      postcode: "604-8005",
      country_id: "JP",
      telephone: "+81 75-000-0000",
    },
  },
  {
    customerId: 13,
    groupId: 2,
    firstname: "Zoë",
    lastname: "Ångström",
    email: "zoe.angstrom@example.se",
    address: {
      street: ["Storgatan 1"],
      city: "Stockholm",
      postcode: "111 51",
      country_id: "SE",
      telephone: "+46 8 000 000",
      company: "Ångström & Söner AB",
    },
  },
  {
    customerId: 14,
    groupId: 1,
    firstname: "Chloé",
    lastname: "Dupont",
    email: "chloe.dupont@example.fr",
    address: {
      street: ["12 Rue de l'Église"],
      city: "Paris",
      region: "Paris",
      region_code: "75",
      region_id: 257,
      postcode: "75004",
      country_id: "FR",
      telephone: "+33 1 00 00 00 00",
      company: "Café Lumière 🌸",
    },
  },
  {
    customerId: 15,
    groupId: 3,
    firstname: "Liam",
    lastname: "O'Brien",
    email: "liam.obrien@example.ie",
    address: {
      street: ["5 Grafton Street"],
      city: "Dublin",
      postcode: "D02 XY00",
      country_id: "IE",
      telephone: "+353 1 000 0000",
    },
  },
];

export const guests: Person[] = [
  {
    firstname: "Ørjan",
    lastname: "Ødegård",
    email: "orjan.odegard@example.no",
    address: {
      street: ["Karl Johans gate 1"],
      city: "Oslo",
      postcode: "0154",
      country_id: "NO",
      telephone: "+47 22 00 00 00",
    },
  },
  {
    firstname: "Max",
    lastname: "Power 🚀",
    email: "max.power@example.com",
    address: {
      street: ["1 Infinite Loop"],
      city: "Cupertino",
      region: "California",
      region_code: "CA",
      region_id: 12,
      postcode: "95014",
      country_id: "US",
      telephone: "408-555-0100",
    },
  },
  {
    firstname: "小龙",
    lastname: "李",
    email: "xiaolong.li@example.cn",
    address: {
      street: ["浦东新区世纪大道100号"],
      city: "上海市",
      region: "上海",
      postcode: "200120",
      country_id: "CN",
      telephone: "+86 21 0000 0000",
    },
  },
  {
    firstname: "Sam",
    lastname: "Smith",
    email: "sam.smith@example.co.uk",
    address: {
      street: ["10 Downing Street"],
      city: "London",
      postcode: "SW1A 2AA",
      country_id: "GB",
      telephone: "+44 20 0000 0000",
    },
  },
];

/** VAT / sales tax applied to items, by billing country. */
export const taxPercentByCountry: Record<string, number> = {
  US: 8.25,
  FR: 20,
  GB: 20,
  ES: 21,
  IE: 23,
  SE: 25,
};

export interface Currency {
  code: string;
  /** base_to_order_rate (base currency USD). */
  rate: number;
}

export const currencies: Record<string, Currency> = {
  USD: { code: "USD", rate: 1 },
  EUR: { code: "EUR", rate: 0.92 },
  GBP: { code: "GBP", rate: 0.79 },
  JPY: { code: "JPY", rate: 149.5 },
};

export interface PaymentMethod {
  method: string;
  title: string;
  additional: string[];
}

export const paymentMethods: PaymentMethod[] = [
  { method: "checkmo", title: "Check / Money order", additional: ["Check / Money order"] },
  { method: "banktransfer", title: "Bank Transfer Payment", additional: ["Bank Transfer Payment", ""] },
  { method: "cashondelivery", title: "Cash On Delivery", additional: ["Cash On Delivery", ""] },
  { method: "purchaseorder", title: "Purchase Order", additional: ["Purchase Order"] },
];

export const freePayment: PaymentMethod = {
  method: "free",
  title: "No Payment Information Required",
  additional: [],
};

export interface ShippingMethod {
  code: string;
  description: string;
  /** Base amount per shipped unit, or flat. */
  perUnit: number;
  flat: number;
}

export const shippingMethods: ShippingMethod[] = [
  { code: "flatrate_flatrate", description: "Flat Rate - Fixed", perUnit: 5, flat: 0 },
  { code: "tablerate_bestway", description: "Best Way - Table Rate", perUnit: 0, flat: 10 },
  { code: "freeshipping_freeshipping", description: "Free Shipping - Free", perUnit: 0, flat: 0 },
];

/**
 * Cart rules with a coupon (`rule` as the tax calculator applies it: docs/magento-tax-calculation.md §5).
 * Amounts of fixed rules are in the base currency.
 */
export interface Coupon {
  code: string;
  ruleId: string;
  /** The cart rule, as the tax calculator applies it. */
  rule: CartRule;
}

export const coupons: Coupon[] = [
  { code: "SAVE10", ruleId: "2", rule: { kind: "percent", amount: 10 } },
  { code: "SPRING15", ruleId: "3", rule: { kind: "percent", amount: 15 } },
  { code: "VIP20", ruleId: "4", rule: { kind: "percent", amount: 20 } },
  { code: "TAKE3", ruleId: "7", rule: { kind: "by_fixed", amount: 3 } },
  { code: "CART25", ruleId: "8", rule: { kind: "cart_fixed", amount: 25 } },
  { code: "FREESHIP", ruleId: "9", rule: { kind: "free_shipping", amount: 0 } },
];

export const fullDiscountCoupon: Coupon = {
  code: "FREESAMPLE",
  ruleId: "5",
  rule: { kind: "percent", amount: 100 },
};

export const customerComments = [
  "Please leave the parcel with the neighbour.",
  "Bitte vor 12 Uhr liefern — danke!",
  "配送は午前中でお願いします",
  "Gift for my mum 🎁, please no invoice in the box",
  "Call before delivery: 555-0101",
];
