import { createFileRoute } from "@tanstack/react-router";

import { PageHeader } from "../../../components/PageHeader";

// Placeholder until this page is built (issue 7).
export const Route = createFileRoute("/_app/invoices/")({
  component: () => <PageHeader title="Invoices" />,
});
