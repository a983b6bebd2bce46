/**
 * The sObjects the simulator knows, with the field properties the REST API exposes through
 * describe and enforces on writes (required = not nillable, createable, not defaulted;
 * read-only; create-only; restricted picklists; lengths; external ids).
 * Objects and rules: reference/salesforce-rest.md §4. State and country picklists: addresses.ts.
 */
import { countryEntries, stateEntries, type AddressPicklists, type PicklistEntry } from "./addresses";

export type FieldType =
  | "id"
  | "reference"
  | "string"
  | "textarea"
  | "email"
  | "phone"
  | "url"
  | "picklist"
  | "boolean"
  | "date"
  | "datetime"
  | "double"
  | "currency"
  | "percent"
  | "int"
  | "base64";

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length: number;
  precision: number;
  scale: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  defaultedOnCreate: boolean;
  externalId: boolean;
  idLookup: boolean;
  unique: boolean;
  caseSensitive: boolean;
  calculated: boolean;
  autoNumber: boolean;
  custom: boolean;
  filterable: boolean;
  sortable: boolean;
  nameField: boolean;
  referenceTo: string[];
  relationshipName: string | null;
  picklistValues: string[];
  restrictedPicklist: boolean;
  /** Labels and `validFor` of the values, when they are not the values themselves. */
  picklistEntries?: PicklistEntry[];
  /** Dependent picklist: the controlling field. */
  controllerName?: string;
  /** State/country code picklist: its values are checked by the address rules (addresses.ts), not generically. */
  addressCode?: boolean;
}

export interface ChildRelationshipDef {
  relationshipName: string;
  childSObject: string;
  field: string;
}

export interface SObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  queryable: boolean;
  /** First API version that exposes the object (OrderStatus: 48.0). */
  minVersion: number;
  fields: FieldDef[];
  childRelationships: ChildRelationshipDef[];
}

export interface OrderStatusDef {
  label: string;
  apiName: string;
  statusCode: "Draft" | "Activated";
}

export type CustomFieldType = "string" | "textarea" | "double" | "currency" | "boolean" | "date" | "datetime";

export interface CustomFieldSpec {
  name: string;
  type?: CustomFieldType;
  length?: number;
  externalId?: boolean;
  unique?: boolean;
  caseSensitive?: boolean;
}

export interface SchemaOptions {
  multiCurrency: boolean;
  /** Active currency ISO codes (CurrencyIsoCode picklist) when multiCurrency. */
  currencies: string[];
  orderStatuses: OrderStatusDef[];
  externalIdFields: Record<string, (string | Omit<CustomFieldSpec, "externalId" | "type">)[]>;
  customFields: Record<string, (string | CustomFieldSpec)[]>;
  /** State and Country/Territory Picklists enabled: the lists (undefined: off). */
  addressPicklists?: AddressPicklists;
  /** Describe `scale` of the price and amount fields (UnitPrice, ListPrice, TotalPrice, TotalAmount); default 2. */
  amountScale?: number;
}

type FieldOptions = Partial<Omit<FieldDef, "name" | "type">>;

function field(name: string, type: FieldType, options: FieldOptions = {}): FieldDef {
  const textual = ["string", "textarea", "email", "phone", "url", "picklist"].includes(type);
  const length = options.length ?? (type === "id" || type === "reference" ? 18 : textual ? 255 : 0);
  const longText = (type === "textarea" && length > 255) || type === "base64";
  return {
    name,
    label: options.label ?? labelOf(name),
    type,
    length,
    precision: options.precision ?? (["double", "currency", "percent"].includes(type) ? 18 : 0),
    scale: options.scale ?? (["double", "currency", "percent"].includes(type) ? 2 : 0),
    nillable: options.nillable ?? true,
    createable: options.createable ?? true,
    updateable: options.updateable ?? true,
    defaultedOnCreate: options.defaultedOnCreate ?? false,
    externalId: options.externalId ?? false,
    idLookup: options.idLookup ?? options.externalId ?? false,
    unique: options.unique ?? false,
    caseSensitive: options.caseSensitive ?? false,
    calculated: options.calculated ?? false,
    autoNumber: options.autoNumber ?? false,
    custom: name.endsWith("__c"),
    filterable: options.filterable ?? !longText,
    sortable: options.sortable ?? !longText,
    nameField: options.nameField ?? false,
    referenceTo: options.referenceTo ?? [],
    relationshipName: options.relationshipName ?? null,
    picklistValues: options.picklistValues ?? [],
    restrictedPicklist: options.restrictedPicklist ?? false,
    ...(options.picklistEntries ? { picklistEntries: options.picklistEntries } : {}),
    ...(options.controllerName ? { controllerName: options.controllerName } : {}),
    ...(options.addressCode ? { addressCode: true } : {}),
  };
}

function labelOf(name: string): string {
  return name
    .replace(/__c$/, "")
    .replace(/Id$/, " ID")
    .replace(/_/g, " ")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .trim();
}

const readOnly: FieldOptions = { createable: false, updateable: false, defaultedOnCreate: true };
const required: FieldOptions = { nillable: false };
const createOnly: FieldOptions = { updateable: false };

function ref(name: string, to: string[], relationshipName: string, options: FieldOptions = {}): FieldDef {
  return field(name, "reference", { referenceTo: to, relationshipName, ...options });
}

function systemFields(withOwner: boolean): FieldDef[] {
  const fields = [
    field("Id", "id", { ...readOnly, nillable: false, idLookup: true, label: "Record ID" }),
    field("IsDeleted", "boolean", { ...readOnly, nillable: false, label: "Deleted" }),
    field("CreatedDate", "datetime", { ...readOnly, nillable: false }),
    ref("CreatedById", ["User"], "CreatedBy", { ...readOnly, nillable: false }),
    field("LastModifiedDate", "datetime", { ...readOnly, nillable: false }),
    ref("LastModifiedById", ["User"], "LastModifiedBy", { ...readOnly, nillable: false }),
    field("SystemModstamp", "datetime", { ...readOnly, nillable: false }),
  ];
  if (withOwner) {
    fields.push(ref("OwnerId", ["User"], "Owner", { nillable: false, defaultedOnCreate: true }));
  }
  return fields;
}

function addressFields(prefix: string, picklists?: AddressPicklists): FieldDef[] {
  const fields = [
    field(`${prefix}Street`, "textarea", { length: 255 }),
    field(`${prefix}City`, "string", { length: 40 }),
    field(`${prefix}State`, "string", { length: 80 }),
    field(`${prefix}PostalCode`, "string", { length: 20 }),
    field(`${prefix}Country`, "string", { length: 80 }),
  ];
  if (!picklists) return fields;
  const code = (name: string, label: string, entries: PicklistEntry[], controllerName?: string) =>
    field(name, "picklist", {
      length: 10,
      label,
      restrictedPicklist: true,
      picklistValues: entries.map((e) => e.value),
      picklistEntries: entries,
      addressCode: true,
      ...(controllerName ? { controllerName } : {}),
    });
  return [
    ...fields,
    code(
      `${prefix}StateCode`,
      `${prefix} State/Province Code`,
      stateEntries(picklists),
      `${prefix}CountryCode`,
    ),
    code(`${prefix}CountryCode`, `${prefix} Country Code`, countryEntries(picklists)),
  ];
}

/** Objects that are linked to notes through Note.ParentId / ContentDocumentLink.LinkedEntityId. */
const NOTE_PARENTS = ["Account", "Contact", "Order", "Product2"];

export class Schema {
  readonly objects = new Map<string, SObjectDef>();
  private readonly byLowerName = new Map<string, SObjectDef>();
  private readonly byPrefix = new Map<string, SObjectDef>();

  constructor(readonly options: SchemaOptions) {
    for (const def of buildObjects(options)) {
      this.objects.set(def.name, def);
      this.byLowerName.set(def.name.toLowerCase(), def);
      this.byPrefix.set(def.keyPrefix, def);
    }
  }

  /** sObject names are case-insensitive in URLs and SOQL. */
  get(name: string): SObjectDef | undefined {
    return this.byLowerName.get(name.toLowerCase());
  }

  byKeyPrefix(prefix: string): SObjectDef | undefined {
    return this.byPrefix.get(prefix);
  }

  /** Field names are case-insensitive too. */
  field(def: SObjectDef, name: string): FieldDef | undefined {
    const lower = name.toLowerCase();
    return def.fields.find((f) => f.name.toLowerCase() === lower);
  }

  relationship(def: SObjectDef, name: string): FieldDef | undefined {
    const lower = name.toLowerCase();
    return def.fields.find((f) => f.relationshipName?.toLowerCase() === lower);
  }

  childRelationship(def: SObjectDef, name: string): ChildRelationshipDef | undefined {
    const lower = name.toLowerCase();
    return def.childRelationships.find((r) => r.relationshipName.toLowerCase() === lower);
  }

  nameFieldOf(def: SObjectDef): FieldDef | undefined {
    return def.fields.find((f) => f.nameField);
  }
}

function buildObjects(options: SchemaOptions): SObjectDef[] {
  const money = { scale: options.amountScale ?? 2 };
  const currency = (opts: FieldOptions = {}): FieldDef[] =>
    options.multiCurrency
      ? [
          field("CurrencyIsoCode", "picklist", {
            length: 3,
            defaultedOnCreate: true,
            restrictedPicklist: true,
            picklistValues: options.currencies,
            label: "Currency ISO Code",
            ...opts,
          }),
        ]
      : [];
  const statusValues = options.orderStatuses.map((s) => s.apiName);
  const address = (prefix: string) => addressFields(prefix, options.addressPicklists);

  const objects: SObjectDef[] = [
    object("Account", "Accounts", "001", [
      ...systemFields(true),
      field("Name", "string", { ...required, nameField: true, label: "Account Name" }),
      field("AccountNumber", "string", { length: 40 }),
      field("Type", "picklist", { picklistValues: ["Prospect", "Customer - Direct", "Customer - Channel"] }),
      field("Phone", "phone", { length: 40 }),
      field("Website", "url"),
      field("Description", "textarea", { length: 32000 }),
      ...address("Billing"),
      ...address("Shipping"),
      ...currency(),
    ]),
    object("Contact", "Contacts", "003", [
      ...systemFields(true),
      field("FirstName", "string", { length: 40 }),
      field("LastName", "string", { ...required, length: 80 }),
      field("Name", "string", { ...readOnly, length: 121, nameField: true, label: "Full Name" }),
      field("Email", "email", { length: 80 }),
      field("Phone", "phone", { length: 40 }),
      ref("AccountId", ["Account"], "Account"),
      ...address("Mailing"),
      field("Description", "textarea", { length: 32000 }),
      ...currency(),
    ]),
    object("Product2", "Products", "01t", [
      ...systemFields(false),
      field("Name", "string", { ...required, nameField: true, label: "Product Name" }),
      field("ProductCode", "string"),
      field("Description", "textarea", { length: 4000 }),
      field("IsActive", "boolean", { nillable: false, defaultedOnCreate: true, label: "Active" }),
      field("Family", "picklist", { picklistValues: ["None"] }),
      field("StockKeepingUnit", "string", {
        length: 180,
        externalId: true,
        unique: true,
        label: "Product SKU",
      }),
      field("IsArchived", "boolean", { ...readOnly, nillable: false }),
      ...currency(),
    ]),
    object("Pricebook2", "Price Books", "01s", [
      ...systemFields(false),
      field("Name", "string", { ...required, nameField: true, label: "Price Book Name" }),
      field("IsActive", "boolean", { nillable: false, defaultedOnCreate: true, label: "Active" }),
      field("IsStandard", "boolean", { ...readOnly, nillable: false, label: "Is Standard Price Book" }),
      field("IsArchived", "boolean", { ...readOnly, nillable: false }),
      field("Description", "string"),
    ]),
    object("PricebookEntry", "Price Book Entries", "01u", [
      ...systemFields(false),
      field("Name", "string", { ...readOnly, nameField: true, label: "Product Name" }),
      ref("Pricebook2Id", ["Pricebook2"], "Pricebook2", { ...required, ...createOnly }),
      ref("Product2Id", ["Product2"], "Product2", { ...required, ...createOnly }),
      field("UnitPrice", "currency", { ...required, ...money, label: "List Price" }),
      field("IsActive", "boolean", { nillable: false, defaultedOnCreate: true, label: "Active" }),
      field("UseStandardPrice", "boolean", { nillable: false, defaultedOnCreate: true }),
      field("ProductCode", "string", { ...readOnly }),
      field("IsArchived", "boolean", { ...readOnly, nillable: false }),
      ...currency({ updateable: false }),
    ]),
    object("Order", "Orders", "801", [
      ...systemFields(true),
      ref("AccountId", ["Account"], "Account", required),
      ref("Pricebook2Id", ["Pricebook2"], "Pricebook2", { label: "Price Book ID" }),
      field("EffectiveDate", "date", { ...required, label: "Order Start Date" }),
      field("EndDate", "date"),
      field("Status", "picklist", {
        ...required,
        length: 40,
        picklistValues: statusValues,
        restrictedPicklist: true,
      }),
      field("StatusCode", "picklist", {
        ...readOnly,
        length: 40,
        picklistValues: ["Draft", "Activated", "Cancelled", "Expired"],
        restrictedPicklist: true,
        label: "Status Category",
      }),
      field("Name", "string", { length: 80, label: "Order Name" }),
      field("Description", "textarea", { length: 32000 }),
      field("OrderNumber", "string", {
        ...readOnly,
        length: 30,
        autoNumber: true,
        idLookup: true,
        nameField: true,
      }),
      field("TotalAmount", "currency", { ...readOnly, ...money, calculated: true, label: "Order Amount" }),
      field("Type", "picklist", { picklistValues: ["New", "Renewal"] }),
      field("PoNumber", "string", { length: 80, label: "PO Number" }),
      field("PoDate", "date", { label: "PO Date" }),
      field("OrderReferenceNumber", "string", { length: 80 }),
      ref("BillToContactId", ["Contact"], "BillToContact"),
      ref("ShipToContactId", ["Contact"], "ShipToContact"),
      ...address("Billing"),
      ...address("Shipping"),
      field("ActivatedDate", "datetime", readOnly),
      ref("ActivatedById", ["User"], "ActivatedBy", readOnly),
      field("IsReductionOrder", "boolean", { ...readOnly, nillable: false }),
      ...currency(),
    ]),
    object("OrderItem", "Order Products", "802", [
      ...systemFields(false),
      ref("OrderId", ["Order"], "Order", { ...required, ...createOnly }),
      ref("PricebookEntryId", ["PricebookEntry"], "PricebookEntry", { ...required, ...createOnly }),
      ref("Product2Id", ["Product2"], "Product2", createOnly),
      field("Quantity", "double", required),
      field("UnitPrice", "currency", { ...required, ...money }),
      field("ListPrice", "currency", { ...readOnly, ...money }),
      field("TotalPrice", "currency", { ...readOnly, ...money, calculated: true }),
      field("Description", "string", { label: "Line Description" }),
      field("ServiceDate", "date", { label: "Start Date" }),
      field("EndDate", "date"),
      field("OrderItemNumber", "string", { ...readOnly, length: 30, autoNumber: true, nameField: true }),
      ...currency({ createable: false, updateable: false }),
    ]),
    object("Note", "Notes", "002", [
      ...systemFields(true),
      ref("ParentId", NOTE_PARENTS, "Parent", { ...required, ...createOnly }),
      field("Title", "string", { ...required, length: 80, nameField: true }),
      field("Body", "textarea", { length: 32000 }),
      field("IsPrivate", "boolean", { nillable: false, defaultedOnCreate: true, label: "Private" }),
    ]),
    object("ContentNote", "Notes", "069", [
      ...systemFields(true),
      field("Title", "string", { ...required, nameField: true }),
      field("Content", "base64", { length: 0 }),
      field("TextPreview", "string", { ...readOnly, length: 1000 }),
      field("FileType", "string", { ...readOnly, length: 20 }),
      field("FileExtension", "string", { ...readOnly, length: 40 }),
    ]),
    object("ContentDocumentLink", "Content Document Links", "06A", [
      ...systemFields(false).filter((f) => !["CreatedDate", "CreatedById"].includes(f.name)),
      ref("ContentDocumentId", ["ContentNote"], "ContentDocument", { ...required, ...createOnly }),
      ref("LinkedEntityId", NOTE_PARENTS, "LinkedEntity", { ...required, ...createOnly }),
      field("ShareType", "picklist", {
        ...required,
        length: 40,
        picklistValues: ["V", "C", "I"],
        restrictedPicklist: true,
      }),
      field("Visibility", "picklist", {
        length: 40,
        defaultedOnCreate: true,
        nillable: false,
        picklistValues: ["AllUsers", "InternalUsers", "SharedUsers"],
        restrictedPicklist: true,
      }),
    ]),
    queryOnly(
      object("OrderStatus", "Order Statuses", "0Ao", [
        field("Id", "id", { ...readOnly, nillable: false }),
        field("ApiName", "string", readOnly),
        field("MasterLabel", "string", { ...readOnly, nameField: true, label: "Label" }),
        field("StatusCode", "picklist", {
          ...readOnly,
          picklistValues: ["Draft", "Activated", "Cancelled", "Expired"],
          label: "Status Category",
        }),
        field("IsDefault", "boolean", readOnly),
        field("SortOrder", "int", readOnly),
      ]),
      48,
    ),
    queryOnly(
      object("User", "Users", "005", [
        field("Id", "id", { ...readOnly, nillable: false }),
        field("Username", "string", { ...readOnly, length: 80 }),
        field("FirstName", "string", { ...readOnly, length: 40 }),
        field("LastName", "string", { ...readOnly, length: 80 }),
        field("Name", "string", { ...readOnly, length: 121, nameField: true, label: "Full Name" }),
        field("Email", "email", { ...readOnly, length: 128 }),
        field("IsActive", "boolean", readOnly),
      ]),
    ),
  ];
  if (options.multiCurrency) {
    objects.push(
      queryOnly(
        object("CurrencyType", "Currencies", "02c", [
          field("Id", "id", { ...readOnly, nillable: false }),
          field("IsoCode", "picklist", {
            ...readOnly,
            length: 3,
            nameField: true,
            label: "Currency ISO Code",
          }),
          field("ConversionRate", "double", { ...readOnly, precision: 18, scale: 6 }),
          field("DecimalPlaces", "int", readOnly),
          field("IsActive", "boolean", readOnly),
          field("IsCorporate", "boolean", readOnly),
        ]),
      ),
    );
  }
  addCustomFields(objects, options);
  linkChildRelationships(objects);
  return objects;
}

function object(name: string, labelPlural: string, keyPrefix: string, fields: FieldDef[]): SObjectDef {
  return {
    name,
    label: name,
    labelPlural,
    keyPrefix,
    createable: true,
    updateable: true,
    deletable: true,
    queryable: true,
    minVersion: 1,
    fields,
    childRelationships: [],
  };
}

function queryOnly(def: SObjectDef, minVersion = 1): SObjectDef {
  return { ...def, createable: false, updateable: false, deletable: false, minVersion };
}

/** Objects without custom-field support in Salesforce. */
const NO_CUSTOM_FIELDS = new Set([
  "Note",
  "ContentNote",
  "ContentDocumentLink",
  "OrderStatus",
  "User",
  "CurrencyType",
]);

function addCustomFields(objects: SObjectDef[], options: SchemaOptions): void {
  const add = (objectName: string, spec: CustomFieldSpec): void => {
    const def = objects.find((o) => o.name === objectName);
    if (!def) throw new Error(`Salesforce simulator: unknown sObject "${objectName}" in field configuration`);
    if (NO_CUSTOM_FIELDS.has(objectName)) {
      throw new Error(`Salesforce simulator: ${objectName} does not support custom fields`);
    }
    if (!/^[A-Za-z][A-Za-z0-9_]*__c$/.test(spec.name)) {
      throw new Error(`Salesforce simulator: custom field "${spec.name}" must end with __c`);
    }
    if (def.fields.some((f) => f.name.toLowerCase() === spec.name.toLowerCase())) return;
    const type = spec.type ?? "string";
    def.fields.push(
      field(spec.name, type, {
        length: type === "string" ? (spec.length ?? 255) : type === "textarea" ? (spec.length ?? 32768) : 0,
        externalId: spec.externalId ?? false,
        unique: spec.unique ?? false,
        caseSensitive: spec.caseSensitive ?? false,
      }),
    );
  };
  for (const [objectName, specs] of Object.entries(options.externalIdFields)) {
    for (const spec of specs) {
      const s = typeof spec === "string" ? { name: spec } : spec;
      add(objectName, { ...s, type: "string", externalId: true });
    }
  }
  for (const [objectName, specs] of Object.entries(options.customFields)) {
    for (const spec of specs) add(objectName, typeof spec === "string" ? { name: spec } : spec);
  }
}

const CHILD_RELATIONSHIP_NAMES: Record<string, string> = {
  "Contact.AccountId": "Contacts",
  "Order.AccountId": "Orders",
  "Order.Pricebook2Id": "Orders",
  "OrderItem.OrderId": "OrderItems",
  "OrderItem.Product2Id": "OrderItems",
  "OrderItem.PricebookEntryId": "OrderItems",
  "PricebookEntry.Product2Id": "PricebookEntries",
  "PricebookEntry.Pricebook2Id": "PricebookEntries",
  "Note.ParentId": "Notes",
  "ContentDocumentLink.LinkedEntityId": "ContentDocumentLinks",
  "ContentDocumentLink.ContentDocumentId": "ContentDocumentLinks",
};

function linkChildRelationships(objects: SObjectDef[]): void {
  for (const child of objects) {
    for (const f of child.fields) {
      const relationshipName = CHILD_RELATIONSHIP_NAMES[`${child.name}.${f.name}`];
      if (!relationshipName) continue;
      for (const parentName of f.referenceTo) {
        const parent = objects.find((o) => o.name === parentName);
        parent?.childRelationships.push({ relationshipName, childSObject: child.name, field: f.name });
      }
    }
  }
}

const SOAP_TYPES: Record<FieldType, string> = {
  id: "tns:ID",
  reference: "tns:ID",
  string: "xsd:string",
  textarea: "xsd:string",
  email: "xsd:string",
  phone: "xsd:string",
  url: "xsd:string",
  picklist: "xsd:string",
  boolean: "xsd:boolean",
  date: "xsd:date",
  datetime: "xsd:dateTime",
  double: "xsd:double",
  currency: "xsd:double",
  percent: "xsd:double",
  int: "xsd:int",
  base64: "xsd:base64Binary",
};

/** `GET /sobjects/{T}/describe` body (the subset of keys clients read). */
export function describeSObject(def: SObjectDef, version: string): Record<string, unknown> {
  const base = `/services/data/v${version}/sobjects/${def.name}`;
  return {
    ...describeGlobalEntry(def, version),
    fields: def.fields.map((f) => ({
      name: f.name,
      label: f.label,
      type: f.type,
      soapType: SOAP_TYPES[f.type],
      length: f.length,
      byteLength: f.length * 3,
      precision: f.precision,
      scale: f.scale,
      digits: f.type === "int" ? 9 : 0,
      nillable: f.nillable,
      createable: f.createable,
      updateable: f.updateable,
      defaultedOnCreate: f.defaultedOnCreate,
      externalId: f.externalId,
      idLookup: f.idLookup,
      unique: f.unique,
      caseSensitive: f.caseSensitive,
      calculated: f.calculated,
      autoNumber: f.autoNumber,
      custom: f.custom,
      filterable: f.filterable,
      sortable: f.sortable,
      groupable: f.filterable && f.type !== "double" && f.type !== "currency",
      nameField: f.nameField,
      polymorphicForeignKey: f.referenceTo.length > 1,
      referenceTo: f.referenceTo,
      relationshipName: f.relationshipName,
      cascadeDelete: false,
      restrictedPicklist: f.restrictedPicklist,
      picklistValues: (
        f.picklistEntries ?? f.picklistValues.map((value) => ({ value, label: value, validFor: null }))
      ).map((e, i) => ({
        active: true,
        defaultValue: i === 0 && f.defaultedOnCreate,
        label: e.label,
        validFor: e.validFor,
        value: e.value,
      })),
      controllerName: f.controllerName ?? null,
      dependentPicklist: f.controllerName !== undefined,
      defaultValue: null,
      deprecatedAndHidden: false,
    })),
    childRelationships: def.childRelationships.map((r) => ({
      childSObject: r.childSObject,
      field: r.field,
      relationshipName: r.relationshipName,
      cascadeDelete: r.childSObject === "OrderItem" || r.childSObject === "Note",
      restrictedDelete: false,
      deprecatedAndHidden: false,
    })),
    recordTypeInfos: [],
    urls: { ...urlsOf(def, version), describe: `${base}/describe` },
  };
}

export function describeGlobalEntry(def: SObjectDef, version: string): Record<string, unknown> {
  return {
    name: def.name,
    label: def.label,
    labelPlural: def.labelPlural,
    keyPrefix: def.keyPrefix,
    custom: false,
    customSetting: false,
    createable: def.createable,
    updateable: def.updateable,
    deletable: def.deletable,
    undeletable: def.deletable,
    queryable: def.queryable,
    retrieveable: true,
    searchable: def.createable,
    triggerable: def.createable,
    layoutable: def.createable,
    replicateable: true,
    deprecatedAndHidden: false,
    urls: urlsOf(def, version),
  };
}

function urlsOf(def: SObjectDef, version: string): Record<string, string> {
  const base = `/services/data/v${version}/sobjects/${def.name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
}
