import { Alert, Badge, Button, Group, Modal, Paper, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";

import { api, type Schemas, unwrap } from "../../../api/client";
import { useCan, useMe } from "../../../auth/me";
import { DataTable } from "../../../components/DataTable";
import { PageHeader } from "../../../components/PageHeader";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { InviteForm, type Role, roleLabel } from "../../../features/team/InviteForm";
import { type Member, MembersTable } from "../../../features/team/MembersTable";
import { dateTime } from "../../../lib/format";
import { PAGE_SIZE } from "../../../lib/listSearch";

export const Route = createFileRoute("/_app/team/")({
  component: TeamPage,
});

type Invitation = Schemas["InvitationOut"];

const teamKeys = {
  all: ["team"] as const,
  members: (page: number) => ["team", "members", page] as const,
  invitations: (page: number) => ["team", "invitations", page] as const,
};

/** A pending confirmation: what to say, and the call to make when confirmed. */
interface Confirm {
  title: string;
  message: string;
  action: string;
  color?: string;
  run: () => Promise<unknown>;
}

function invitationState(i: Invitation): { label: string; color: string } {
  if (i.accepted_at) return { label: "accepted", color: "green" };
  if (i.revoked_at) return { label: "revoked", color: "gray" };
  if (new Date(i.expires_at) < new Date()) return { label: "expired", color: "orange" };
  return { label: "pending", color: "blue" };
}

function TeamPage() {
  const me = useMe();
  const canManage = useCan("team:manage");
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const [invPage, setInvPage] = useState(1);
  const [inviting, setInviting] = useState(false);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [confirmError, setConfirmError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const members = useQuery({
    queryKey: teamKeys.members(page),
    queryFn: () =>
      unwrap(api.GET("/api/v1/team/members", { params: { query: { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } } })),
    placeholderData: keepPreviousData,
  });
  const invitations = useQuery({
    queryKey: teamKeys.invitations(invPage),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/team/invitations", { params: { query: { limit: PAGE_SIZE, offset: (invPage - 1) * PAGE_SIZE } } }),
      ),
    enabled: canManage,
    placeholderData: keepPreviousData,
  });

  const ask = (c: Confirm) => {
    setConfirmError(null);
    setConfirm(c);
  };

  const refresh = () => queryClient.invalidateQueries({ queryKey: teamKeys.all });

  const changeRole = async (m: Member, role: Role) => {
    try {
      await unwrap(api.PATCH("/api/v1/team/members/{user_id}", { params: { path: { user_id: m.user_id } }, body: { role } }));
      notifications.show({ color: "green", message: `${m.full_name} is now ${roleLabel(role)}` });
    } catch (e) {
      notifications.show({ color: "red", title: "Role not changed", message: e instanceof Error ? e.message : String(e) });
    }
    await refresh();
  };

  const runConfirm = async () => {
    if (!confirm) return;
    setConfirmError(null);
    setBusy(true);
    try {
      await confirm.run();
      setConfirm(null);
      await refresh();
    } catch (e) {
      setConfirmError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const invitationColumns: ColumnDef<Invitation>[] = [
    { id: "email", accessorKey: "email", header: "Email" },
    { id: "role", header: "Role", cell: ({ row }) => roleLabel(row.original.role) },
    {
      id: "state",
      header: "Status",
      cell: ({ row }) => {
        const s = invitationState(row.original);
        return (
          <Badge variant="light" color={s.color}>
            {s.label}
          </Badge>
        );
      },
    },
    { id: "created_at", header: "Sent", cell: ({ row }) => dateTime(row.original.created_at) },
    { id: "expires_at", header: "Expires", cell: ({ row }) => dateTime(row.original.expires_at) },
    {
      id: "actions",
      header: "Actions",
      cell: ({ row }) => {
        const i = row.original;
        if (invitationState(i).label !== "pending") return null;
        return (
          <Button
            size="xs"
            variant="light"
            color="red"
            aria-label={`Revoke invitation for ${i.email}`}
            onClick={() =>
              ask({
                title: `Revoke the invitation for ${i.email}?`,
                message: "Its link stops working.",
                action: "Revoke",
                color: "red",
                run: () =>
                  unwrap(api.DELETE("/api/v1/team/invitations/{invitation_id}", { params: { path: { invitation_id: i.id } } })),
              })
            }
          >
            Revoke
          </Button>
        );
      },
    },
  ];

  return (
    <>
      <PageHeader title="Team">
        {canManage ? <Button onClick={() => setInviting(true)}>Invite member</Button> : null}
      </PageHeader>
      <Stack>
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="sm">
            Members
          </Title>
          <QueryState query={members} isEmpty={(p) => p.total === 0} empty={<EmptyState title="No members" />}>
            {(p) => (
              <MembersTable
                members={p.items}
                meId={me.user.id}
                canManage={canManage}
                onRoleChange={(m, role) => void changeRole(m, role)}
                onDeactivate={(m) =>
                  ask({
                    title: `Deactivate ${m.full_name}?`,
                    message: "They are signed out and can no longer sign in to this firm. You can reactivate them later.",
                    action: "Deactivate",
                    color: "red",
                    run: () =>
                      unwrap(api.POST("/api/v1/team/members/{user_id}/deactivate", { params: { path: { user_id: m.user_id } } })),
                  })
                }
                onReactivate={(m) =>
                  ask({
                    title: `Reactivate ${m.full_name}?`,
                    message: `They can sign in again, as ${roleLabel(m.role)}.`,
                    action: "Reactivate",
                    run: () =>
                      unwrap(api.POST("/api/v1/team/members/{user_id}/reactivate", { params: { path: { user_id: m.user_id } } })),
                  })
                }
                total={p.total}
                page={page}
                pageSize={PAGE_SIZE}
                onPageChange={setPage}
              />
            )}
          </QueryState>
        </Paper>
        {canManage ? (
          <Paper withBorder p="md">
            <Title order={2} size="h4" mb="sm">
              Invitations
            </Title>
            <QueryState
              query={invitations}
              isEmpty={(p) => p.total === 0}
              empty={<EmptyState title="No invitations">Invite a colleague with “Invite member”.</EmptyState>}
            >
              {(p) => (
                <DataTable
                  label="Invitations"
                  columns={invitationColumns}
                  rows={p.items}
                  getRowId={(i) => i.id}
                  total={p.total}
                  page={invPage}
                  pageSize={PAGE_SIZE}
                  onPageChange={setInvPage}
                />
              )}
            </QueryState>
          </Paper>
        ) : null}
      </Stack>
      <Modal
        opened={inviting}
        onClose={() => {
          setInviting(false);
          void refresh();
        }}
        title="Invite member"
        size="lg"
      >
        <InviteForm
          onSubmit={(body) => unwrap(api.POST("/api/v1/team/invitations", { body }))}
          onDone={() => {
            setInviting(false);
            void refresh();
          }}
        />
      </Modal>
      <Modal opened={!!confirm} onClose={() => setConfirm(null)} title={confirm?.title}>
        <Stack>
          {confirmError ? (
            <Alert color="red" role="alert">
              {confirmError}
            </Alert>
          ) : null}
          <Text size="sm">{confirm?.message}</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirm(null)}>
              Cancel
            </Button>
            <Button color={confirm?.color} loading={busy} onClick={() => void runConfirm()}>
              {confirm?.action}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
