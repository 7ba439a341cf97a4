import { describe, expect, it } from "vitest";

import { needsConnection, vendorRecordUrl } from "./vendorLinks";

describe("vendorRecordUrl", () => {
  it("links the vendors with a known pattern", () => {
    expect(vendorRecordUrl("quickbooks", "58")).toBe("https://app.qbo.intuit.com/app/customerdetail?nameId=58");
    expect(vendorRecordUrl("xero", "6f1c-22")).toBe("https://go.xero.com/Contacts/View/6f1c-22");
    expect(vendorRecordUrl("stripe", "cus_Q1w2")).toBe("https://dashboard.stripe.com/customers/cus_Q1w2");
  });

  it("escapes ids so they cannot change the URL's shape", () => {
    expect(vendorRecordUrl("quickbooks", "251:primary&x=1")).toBe(
      "https://app.qbo.intuit.com/app/customerdetail?nameId=251%3Aprimary%26x%3D1",
    );
    expect(vendorRecordUrl("xero", "../admin")).toBe("https://go.xero.com/Contacts/View/..%2Fadmin");
  });

  it("links Salesforce only when the instance is known", () => {
    expect(vendorRecordUrl("salesforce", "001A")).toBeNull();
    expect(vendorRecordUrl("salesforce", "001A", { instanceUrl: null })).toBeNull();
    expect(vendorRecordUrl("salesforce", "001A", { instanceUrl: "https://acme.my.salesforce.com/" })).toBe(
      "https://acme.my.salesforce.com/001A",
    );
    expect(vendorRecordUrl("salesforce", "001A", { instanceUrl: "javascript:alert(1)" })).toBeNull();
    expect(needsConnection("salesforce")).toBe(true);
    expect(needsConnection("xero")).toBe(false);
  });

  it("gives no link for vendors without a pattern", () => {
    expect(vendorRecordUrl("google_calendar", "abc")).toBeNull();
    expect(vendorRecordUrl("quickbooks", "")).toBeNull();
  });
});
