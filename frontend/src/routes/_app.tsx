import { AppShell, Badge, Burger, Button, Group, NavLink, ScrollArea, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute, Link, Outlet, redirect, useRouterState } from "@tanstack/react-router";

import { api, unwrap } from "../api/client";
import { meQuery, useMe } from "../auth/me";
import { session } from "../auth/session";
import { closeConsole } from "../features/operations/openConsole";
import { NAV } from "../nav";

/** Every signed-in page: the session is checked and the user's role loaded before any of them renders. */
export const Route = createFileRoute("/_app")({
  beforeLoad: ({ location }) => {
    if (!session.isSignedIn()) throw redirect({ to: "/login", search: { redirect: location.href } });
  },
  loader: ({ context }) => context.queryClient.ensureQueryData(meQuery),
  component: AppLayout,
});

const ROLE_LABEL: Record<string, string> = {
  firm_admin: "Firm admin",
  partner: "Partner",
  manager: "Manager",
  staff: "Staff",
  billing: "Billing",
  readonly: "Read-only",
};

function AppLayout() {
  const me = useMe();
  const [opened, { toggle, close }] = useDisclosure();
  const pathname = useRouterState({ select: (s) => s.location.pathname });
  const version = useQuery({
    queryKey: ["version"],
    queryFn: () => unwrap(api.GET("/api/v1/version")),
    staleTime: Infinity,
  });
  const items = NAV.filter((item) => me.permissions.includes(item.permission));

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Text fw={800} c="blue">
              firmsync
            </Text>
            <Text fw={500}>{me.firm.name}</Text>
          </Group>
          <Group gap="sm">
            <Text size="sm" visibleFrom="sm">
              {me.user.full_name}
            </Text>
            <Badge variant="light" aria-label="Your role">
              {ROLE_LABEL[me.firm.role] ?? me.firm.role}
            </Badge>
            <Button
              variant="subtle"
              size="compact-sm"
              onClick={() => {
                void closeConsole();
                session.expire();
              }}
            >
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Sections">
        <AppShell.Section grow component={ScrollArea}>
          {items.map((item) => (
            <NavLink
              key={item.to}
              component={Link}
              to={item.to}
              label={item.label}
              active={item.to === "/" ? pathname === "/" : pathname.startsWith(item.to)}
              onClick={close}
            />
          ))}
        </AppShell.Section>
        <AppShell.Section>
          <Text size="xs" c="dimmed" px="sm" data-testid="app-version">
            {version.data ? `firmsync ${version.data.version}` : ""}
          </Text>
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
