// Moved to src/sync/amounts.ts (the Salesforce mapping uses it too); kept for existing imports.
export * from "../sync/amounts";
