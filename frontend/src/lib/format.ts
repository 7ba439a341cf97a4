import dayjs from "dayjs";

/** Amounts arrive as decimal strings ("1234.50"): formatted without passing through a float sum. */
export function money(amount: string | number | null | undefined, currency = "USD"): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const value = typeof amount === "string" ? Number(amount) : amount;
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value);
}

export function date(value: string | null | undefined): string {
  return value ? dayjs(value).format("D MMM YYYY") : "—";
}

export function dateTime(value: string | null | undefined): string {
  return value ? dayjs(value).format("D MMM YYYY HH:mm") : "—";
}

export function ago(value: string | null | undefined): string {
  if (!value) return "never";
  const minutes = dayjs().diff(dayjs(value), "minute");
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}
