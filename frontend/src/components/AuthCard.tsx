import { Anchor, Center, Paper, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";

export function AuthCard({ title, children, footer }: { title: string; children: ReactNode; footer?: ReactNode }) {
  return (
    <Center mih="100vh" bg="gray.0" p="md">
      <Paper withBorder shadow="sm" p="xl" w={420} radius="md">
        <Stack>
          <div>
            <Text fw={700} c="blue" size="sm">
              firmsync
            </Text>
            <Title order={1} size="h2">
              {title}
            </Title>
          </div>
          {children}
          {footer ? <Text size="sm">{footer}</Text> : null}
        </Stack>
      </Paper>
    </Center>
  );
}

export { Anchor };
