import { Anchor, Badge, Button, Card, Group, NativeSelect, Stack, Text } from "@mantine/core";
import { Link } from "@tanstack/react-router";

import { SETTABLE_STATUSES } from "./LeadForm";
import type { Lead } from "./queries";

/**
 * One lead on the board: name, company, score, source; a "Move to…" select (keyboard usable: the board's
 * way to change status) and "Convert to client" for roles that may write. A converted lead links to its client
 * and does not move.
 */
export function LeadCard({
  lead,
  canWrite,
  moving,
  onMove,
  onConvert,
}: {
  lead: Lead;
  canWrite: boolean;
  moving?: boolean;
  onMove: (lead: Lead, status: string) => void;
  onConvert: (lead: Lead) => void;
}) {
  const converted = lead.status === "converted" || !!lead.converted_client_id;
  return (
    <Card withBorder padding="sm" component="article" aria-label={lead.name}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Text fw={600} size="sm">
            {lead.name}
          </Text>
          <Badge style={{ flexShrink: 0 }} variant="light" color={lead.score >= 70 ? "green" : lead.score >= 40 ? "yellow" : "gray"} title="Score" aria-label={`Score ${lead.score}`}>
            {lead.score}
          </Badge>
        </Group>
        {lead.company_name ? (
          <Text size="sm" c="dimmed">
            {lead.company_name}
          </Text>
        ) : null}
        <Text size="xs" c="dimmed">
          Source: {lead.source ?? "—"}
        </Text>
        {converted ? (
          <Group gap="xs">
            <Badge color="teal" variant="light">
              Converted
            </Badge>
            {lead.converted_client_id ? (
              <Anchor component={Link} to={`/clients/${lead.converted_client_id}`} size="sm">
                Open client
              </Anchor>
            ) : null}
          </Group>
        ) : canWrite ? (
          <>
            <NativeSelect
              size="xs"
              aria-label={`Move ${lead.name} to`}
              value=""
              disabled={moving}
              data={[
                { value: "", label: "Move to…", disabled: true },
                ...SETTABLE_STATUSES.filter((s) => s.value !== lead.status).map((s) => ({ ...s })),
              ]}
              onChange={(e) => {
                if (e.currentTarget.value) onMove(lead, e.currentTarget.value);
              }}
            />
            {lead.status !== "lost" ? (
              <Button size="xs" variant="light" onClick={() => onConvert(lead)} aria-label={`Convert ${lead.name} to client`}>
                Convert to client
              </Button>
            ) : null}
          </>
        ) : null}
      </Stack>
    </Card>
  );
}
