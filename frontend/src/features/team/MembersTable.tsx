import { Badge, Button, Select, Text } from "@mantine/core";
import type { ColumnDef } from "@tanstack/react-table";

import type { Schemas } from "../../api/client";
import { DataTable } from "../../components/DataTable";
import { date } from "../../lib/format";
import { type Role, ROLES, roleLabel } from "./InviteForm";

export type Member = Schemas["MemberOut"];

/**
 * The firm's members. With `canManage`, each other member's role is a Select ("Role of <name>") and they
 * can be deactivated or reactivated; none of that is offered on the signed-in user's own row.
 */
export function MembersTable({
  members,
  meId,
  canManage,
  onRoleChange,
  onDeactivate,
  onReactivate,
  total,
  page,
  pageSize,
  onPageChange,
}: {
  members: Member[];
  meId: string;
  canManage: boolean;
  onRoleChange: (m: Member, role: Role) => void;
  onDeactivate: (m: Member) => void;
  onReactivate: (m: Member) => void;
  total?: number;
  page?: number;
  pageSize?: number;
  onPageChange?: (page: number) => void;
}) {
  const columns: ColumnDef<Member>[] = [
    { id: "full_name", accessorKey: "full_name", header: "Name" },
    { id: "email", accessorKey: "email", header: "Email" },
    {
      id: "role",
      header: "Role",
      cell: ({ row }) => {
        const m = row.original;
        if (!canManage || m.user_id === meId) return <Badge variant="light">{roleLabel(m.role)}</Badge>;
        return (
          <Select
            aria-label={`Role of ${m.full_name}`}
            data={ROLES}
            value={m.role}
            allowDeselect={false}
            onChange={(v) => {
              if (v && v !== m.role) onRoleChange(m, v as Role);
            }}
            size="xs"
            w={150}
          />
        );
      },
    },
    {
      id: "active",
      header: "Active",
      cell: ({ row }) => (
        <Badge variant="light" color={row.original.active ? "green" : "gray"}>
          {row.original.active ? "active" : "deactivated"}
        </Badge>
      ),
    },
    { id: "joined_at", header: "Joined", cell: ({ row }) => date(row.original.joined_at) },
  ];
  if (canManage) {
    columns.push({
      id: "actions",
      header: "Actions",
      cell: ({ row }) => {
        const m = row.original;
        if (m.user_id === meId)
          return (
            <Text size="xs" c="dimmed">
              you
            </Text>
          );
        return m.active ? (
          <Button size="xs" variant="light" color="red" aria-label={`Deactivate ${m.full_name}`} onClick={() => onDeactivate(m)}>
            Deactivate
          </Button>
        ) : (
          <Button size="xs" variant="light" aria-label={`Reactivate ${m.full_name}`} onClick={() => onReactivate(m)}>
            Reactivate
          </Button>
        );
      },
    });
  }
  return (
    <DataTable
      label="Members"
      columns={columns}
      rows={members}
      getRowId={(m) => m.user_id}
      total={total}
      page={page}
      pageSize={pageSize}
      onPageChange={onPageChange}
    />
  );
}
