import { Anchor, Table, Text } from "@mantine/core";
import { useQueries, useQuery } from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "../../api/client";
import { useCan } from "../../auth/me";
import { needsConnection, vendorRecordUrl } from "../../lib/vendorLinks";
import { providersQuery } from "./queries";

type Ref = Schemas["ExternalRefOut"];

/**
 * The vendor records this client is linked to: the vendor's name, its id there, a link to its page at the
 * vendor where the URL pattern is known, and the connection that synced it.
 */
export function LinkedRecords({ refs }: { refs: Ref[] }) {
  const providers = useQuery(providersQuery);
  const canReadConnections = useCan("connections:read");
  // Salesforce links need the org's instance URL, which the connection's config holds.
  const connectionIds = [...new Set(refs.filter((r) => needsConnection(r.provider)).map((r) => r.connection_id))];
  const connections = useQueries({
    queries: (canReadConnections ? connectionIds : []).map((id) => ({
      queryKey: ["connections", "detail", id],
      queryFn: () => unwrap(api.GET("/api/v1/connections/{connection_id}", { params: { path: { connection_id: id } } })),
      staleTime: 5 * 60_000,
    })),
  });
  const instanceUrl = (connectionId: string): string | null => {
    const found = connections.find((c) => c.data?.id === connectionId)?.data;
    const url = (found?.config as Record<string, unknown> | undefined)?.instance_url;
    return typeof url === "string" ? url : null;
  };
  const displayName = (provider: string) =>
    providers.data?.find((p) => p.name === provider)?.display_name ?? provider;

  if (!refs.length) {
    return (
      <Text c="dimmed" size="sm">
        Not linked to any vendor record.
      </Text>
    );
  }
  return (
    <Table aria-label="Linked records" verticalSpacing="xs">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Vendor</Table.Th>
          <Table.Th>Vendor id</Table.Th>
          <Table.Th>At the vendor</Table.Th>
          <Table.Th>Connection</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {refs.map((ref) => {
          const name = displayName(ref.provider);
          const url = vendorRecordUrl(ref.provider, ref.external_id, { instanceUrl: instanceUrl(ref.connection_id) });
          return (
            <Table.Tr key={`${ref.connection_id}:${ref.external_id}`}>
              <Table.Td>{name}</Table.Td>
              <Table.Td>
                <Text ff="monospace" size="sm">
                  {ref.external_id}
                </Text>
              </Table.Td>
              <Table.Td>
                {url ? (
                  <Anchor href={url} target="_blank" rel="noopener noreferrer" size="sm">
                    Open in {name}
                  </Anchor>
                ) : (
                  <Text c="dimmed" size="sm">
                    No link
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Anchor href={`/integrations/${ref.connection_id}`} size="sm" aria-label={`${name} connection`}>
                  View connection
                </Anchor>
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
