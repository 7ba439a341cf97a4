/** The client page's tabs (kept in its URL as ?tab=, contacts being the default). */
export const CLIENT_TABS = ["contacts", "engagements", "invoices", "documents", "events"] as const;
export type ClientTab = (typeof CLIENT_TABS)[number];
