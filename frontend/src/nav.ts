/** The signed-in app's sections, in menu order; each shows only for roles holding its read permission. */
export interface NavItem {
  to: string;
  label: string;
  permission: string;
}

export const NAV: NavItem[] = [
  { to: "/", label: "Dashboard", permission: "clients:read" },
  { to: "/clients", label: "Clients", permission: "clients:read" },
  { to: "/contacts", label: "Contacts", permission: "clients:read" },
  { to: "/leads", label: "Leads", permission: "leads:read" },
  { to: "/engagements", label: "Engagements", permission: "engagements:read" },
  { to: "/invoices", label: "Invoices", permission: "invoices:read" },
  { to: "/documents", label: "Documents", permission: "documents:read" },
  { to: "/calendar", label: "Calendar", permission: "calendar:read" },
  { to: "/integrations", label: "Integrations", permission: "connections:read" },
  { to: "/team", label: "Team", permission: "team:read" },
  { to: "/audit", label: "Audit log", permission: "audit:read" },
];
