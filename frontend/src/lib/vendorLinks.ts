/**
 * Where a synced record lives at its vendor: the URL of the vendor's own page for a client
 * (QuickBooks customer, Xero contact, Stripe customer, Salesforce account), or null when no pattern is
 * known (or, for Salesforce, when the org's instance URL is not known).
 */
export interface VendorLinkContext {
  /** Salesforce: the org's instance URL (the connection's config.instance_url). */
  instanceUrl?: string | null;
}

const PATTERNS: Record<string, (id: string, ctx: VendorLinkContext) => string | null> = {
  quickbooks: (id) => `https://app.qbo.intuit.com/app/customerdetail?nameId=${encodeURIComponent(id)}`,
  xero: (id) => `https://go.xero.com/Contacts/View/${encodeURIComponent(id)}`,
  stripe: (id) => `https://dashboard.stripe.com/customers/${encodeURIComponent(id)}`,
  salesforce: (id, { instanceUrl }) => {
    if (!instanceUrl || !/^https:\/\/[^/\s]+/.test(instanceUrl)) return null;
    return `${instanceUrl.replace(/\/+$/, "")}/${encodeURIComponent(id)}`;
  },
};

export function vendorRecordUrl(provider: string, externalId: string, ctx: VendorLinkContext = {}): string | null {
  const pattern = PATTERNS[provider];
  if (!pattern || !externalId) return null;
  return pattern(externalId, ctx);
}

/** Providers whose record links need the connection's details (so the page fetches the connection). */
export function needsConnection(provider: string): boolean {
  return provider === "salesforce";
}
