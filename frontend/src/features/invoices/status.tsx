import { Badge } from "@mantine/core";

import { compareDecimal } from "./totals";
import type { Invoice } from "./queries";

const COLOR: Record<string, string> = {
  draft: "gray",
  sent: "blue",
  partial: "yellow",
  paid: "green",
  overdue: "red",
  void: "dark",
};

/**
 * The status to show: the server's, except that a sent or partly paid invoice past its due date with a
 * balance left is overdue (whether or not the stored status has caught up yet).
 */
export function displayStatus(
  invoice: Pick<Invoice, "status" | "due_date" | "balance_due">,
  today: string = new Date().toISOString().slice(0, 10),
): Invoice["status"] {
  const open = invoice.status === "sent" || invoice.status === "partial" || invoice.status === "overdue";
  const owing = compareDecimal(invoice.balance_due, "0", 4) === 1;
  if (open && owing && invoice.due_date < today) return "overdue";
  return invoice.status;
}

export function InvoiceStatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <Badge color={COLOR[status] ?? "gray"} variant="light" data-testid={testId}>
      {status}
    </Badge>
  );
}
