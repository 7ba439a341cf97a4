import { Anchor, Breadcrumbs, Button, Group, Modal, NavLink, Paper, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";

import { api, type Schemas, unwrap } from "../../../api/client";
import { useCan } from "../../../auth/me";
import { Can } from "../../../components/Can";
import { useClientNames } from "../../../components/ClientPicker";
import { DataTable } from "../../../components/DataTable";
import { PageHeader } from "../../../components/PageHeader";
import { EmptyState, ErrorState, QueryState } from "../../../components/QueryState";
import { FolderForm, fileSize, openPresigned, UploadForm, VersionsModal } from "../../../features/documents/components";
import { uploadErrorMessage, uploadNewDocument, uploadVersion } from "../../../features/documents/upload";
import { dateTime } from "../../../lib/format";
import { type ListSearch, pageParams, urlPaging, validateListSearch } from "../../../lib/listSearch";

type DocSearch = ListSearch & { folder?: string };

export const Route = createFileRoute("/_app/documents/")({
  validateSearch: (search: Record<string, unknown>): DocSearch => ({
    ...validateListSearch(search),
    folder: typeof search.folder === "string" && search.folder ? search.folder : undefined,
  }),
  component: DocumentsPage,
});

type Folder = Schemas["FolderOut"];
type Document = Schemas["DocumentOut"];

const fetchUpload = (request: Request) => fetch(request);

/** The folder and its ancestors, top first (for the breadcrumbs). */
async function folderPath(folderId: string): Promise<Folder[]> {
  const path: Folder[] = [];
  let id: string | null = folderId;
  while (id && path.length < 20) {
    const folder: Folder = await unwrap(api.GET("/api/v1/folders/{folder_id}", { params: { path: { folder_id: id } } }));
    path.unshift(folder);
    id = folder.parent_id;
  }
  return path;
}

const download = (document: Document) =>
  openPresigned(() =>
    unwrap(api.GET("/api/v1/documents/{document_id}/download", { params: { path: { document_id: document.id } } })),
  );

function DocumentsPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const queryClient = useQueryClient();
  const canWrite = useCan("documents:write");
  const folderId = search.folder;

  const [folderModal, setFolderModal] = useState<"create" | "rename" | null>(null);
  const [uploadTarget, setUploadTarget] = useState<"new" | Document | null>(null);
  const [versionsOf, setVersionsOf] = useState<Document | null>(null);

  const setSearch = (patch: Partial<DocSearch>) =>
    void navigate({ search: (prev) => ({ ...prev, page: undefined, ...patch }) });
  const openFolder = (id: string | undefined) => void navigate({ search: { folder: id } });
  const onQuery = useDebouncedCallback((q: string) => setSearch({ q: q || undefined }), 300);

  const path = useQuery({
    queryKey: ["folders", "path", folderId],
    queryFn: () => folderPath(folderId!),
    enabled: !!folderId,
  });
  const current = path.data?.at(-1);
  const folders = useQuery({
    queryKey: ["folders", "list", folderId ?? "root"],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/folders", {
          params: { query: folderId ? { parent_id: folderId, limit: 200 } : { root: true, limit: 200 } },
        }),
      ),
  });
  const documents = useQuery({
    queryKey: ["documents", "list", folderId, search.q, search.sort, search.page],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/documents", {
          params: {
            query: {
              folder_id: folderId,
              q: search.q,
              sort: (search.sort ?? "name") as "name",
              ...pageParams(search),
            },
          },
        }),
      ),
    enabled: !!folderId,
    placeholderData: keepPreviousData,
  });
  const clientNames = useClientNames(documents.data?.items.map((d) => d.client_id) ?? []);

  const refresh = () => queryClient.invalidateQueries({ queryKey: ["documents"] });

  const saveFolder = async (name: string) => {
    if (folderModal === "rename" && current) {
      await unwrap(
        api.PATCH("/api/v1/folders/{folder_id}", {
          params: { path: { folder_id: current.id } },
          body: { name, version: current.version },
        }),
      );
      notifications.show({ color: "green", message: `Folder renamed to “${name}”` });
    } else {
      const folder = await unwrap(api.POST("/api/v1/folders", { body: { name, parent_id: folderId ?? null } }));
      notifications.show({ color: "green", message: `Folder “${folder.name}” created` });
    }
    await queryClient.invalidateQueries({ queryKey: ["folders"] });
    setFolderModal(null);
  };

  const columns: ColumnDef<Document>[] = [
    { id: "name", accessorKey: "name", header: "Name", enableSorting: true },
    {
      id: "client",
      header: "Client",
      enableSorting: false,
      cell: ({ row }) => (row.original.client_id ? (clientNames[row.original.client_id] ?? "…") : "—"),
    },
    { id: "content_type", accessorKey: "content_type", header: "Type", enableSorting: false },
    {
      id: "current",
      header: "Current version",
      enableSorting: false,
      cell: ({ row }) => {
        const v = row.original.current_version;
        return v ? `v${v.number} · ${fileSize(v.size_bytes)}` : <Text c="dimmed" size="sm">no upload yet</Text>;
      },
    },
    {
      id: "updated_at",
      accessorKey: "updated_at",
      header: "Updated",
      enableSorting: true,
      cell: (c) => dateTime(c.getValue<string>()),
    },
    {
      id: "actions",
      header: "Actions",
      enableSorting: false,
      cell: ({ row }) => {
        const doc = row.original;
        return (
          <Group gap={4} wrap="nowrap" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.stopPropagation()}>
            <Button
              size="compact-xs"
              variant="light"
              disabled={!doc.current_version_id}
              aria-label={`Download ${doc.name}`}
              onClick={() =>
                download(doc).catch((e) =>
                  notifications.show({ color: "red", title: "Download failed", message: uploadErrorMessage(e) }),
                )
              }
            >
              Download
            </Button>
            <Button size="compact-xs" variant="subtle" aria-label={`Versions of ${doc.name}`} onClick={() => setVersionsOf(doc)}>
              Versions
            </Button>
            {canWrite ? (
              <Button
                size="compact-xs"
                variant="subtle"
                aria-label={`Upload a new version of ${doc.name}`}
                onClick={() => setUploadTarget(doc)}
              >
                New version
              </Button>
            ) : null}
          </Group>
        );
      },
    },
  ];

  return (
    <>
      <PageHeader title="Documents">
        <Can permission="documents:write">
          {current ? (
            <Button variant="default" onClick={() => setFolderModal("rename")}>
              Rename folder
            </Button>
          ) : null}
          <Button variant="default" onClick={() => setFolderModal("create")}>
            New folder
          </Button>
          {folderId ? <Button onClick={() => setUploadTarget("new")}>Upload document</Button> : null}
        </Can>
      </PageHeader>

      <Breadcrumbs mb="md" component="nav" aria-label="Folder path">
        <Anchor component="button" type="button" onClick={() => openFolder(undefined)}>
          All folders
        </Anchor>
        {(path.data ?? []).map((f) => (
          <Anchor key={f.id} component="button" type="button" onClick={() => openFolder(f.id)}>
            {f.name}
          </Anchor>
        ))}
      </Breadcrumbs>
      {path.isError ? <ErrorState error={path.error} onRetry={() => void path.refetch()} /> : null}

      <SimpleGrid cols={{ base: 1, md: 4 }} spacing="md">
        <Paper withBorder p="sm">
          <Text fw={600} size="sm" mb="xs" id="folders-heading">
            {current ? `Folders in ${current.name}` : "Folders"}
          </Text>
          <QueryState
            query={folders}
            isEmpty={(page) => page.items.length === 0}
            empty={<EmptyState title="No folders here">{canWrite ? "Create one with “New folder”." : null}</EmptyState>}
          >
            {(page) => (
              <Stack gap={0} component="nav" aria-labelledby="folders-heading">
                {page.items.map((f) => (
                  <NavLink key={f.id} component="button" label={f.name} onClick={() => openFolder(f.id)} />
                ))}
              </Stack>
            )}
          </QueryState>
        </Paper>

        <Paper withBorder p="md" style={{ gridColumn: "span 3" }}>
          {!folderId ? (
            <EmptyState title="Open a folder">Documents live in folders; pick one on the left.</EmptyState>
          ) : (
            <>
              <Group mb="md">
                <TextInput
                  aria-label="Search documents"
                  placeholder="Search by name"
                  defaultValue={search.q ?? ""}
                  onChange={(e) => onQuery(e.currentTarget.value)}
                  w={280}
                />
              </Group>
              {documents.isPending && documents.fetchStatus === "idle" ? null : (
                <QueryState
                  query={documents}
                  isEmpty={(page) => page.total === 0}
                  empty={
                    <EmptyState title={search.q ? "No document matches" : "No documents in this folder"}>
                      {search.q ? "Try another search." : canWrite ? "Upload one with “Upload document”." : null}
                    </EmptyState>
                  }
                >
                  {(page) => (
                    <DataTable
                      label="Documents"
                      columns={columns}
                      rows={page.items}
                      getRowId={(d) => d.id}
                      total={page.total}
                      {...urlPaging(search, setSearch, "name")}
                    />
                  )}
                </QueryState>
              )}
            </>
          )}
        </Paper>
      </SimpleGrid>

      <Modal
        opened={folderModal !== null}
        onClose={() => setFolderModal(null)}
        title={folderModal === "rename" ? "Rename folder" : current ? `New folder in ${current.name}` : "New folder"}
      >
        <FolderForm
          key={`${folderModal}-${current?.id}`}
          initialName={folderModal === "rename" ? current?.name : ""}
          submitLabel={folderModal === "rename" ? "Rename" : "Create folder"}
          onSubmit={saveFolder}
          onCancel={() => setFolderModal(null)}
        />
      </Modal>

      <Modal
        opened={uploadTarget !== null}
        onClose={() => setUploadTarget(null)}
        title={uploadTarget === "new" || uploadTarget === null ? "Upload document" : `New version of ${uploadTarget.name}`}
      >
        {uploadTarget ? (
          <UploadForm
            withClient={uploadTarget === "new"}
            submitLabel="Upload"
            onCancel={() => setUploadTarget(null)}
            upload={async ({ file, clientId }, onStep) => {
              if (uploadTarget === "new") {
                await uploadNewDocument({ folderId: folderId!, file, clientId }, { fetch: fetchUpload, onStep });
                notifications.show({ color: "green", message: `“${file.name}” uploaded` });
              } else {
                const v = await uploadVersion(uploadTarget.id, file, { fetch: fetchUpload, onStep });
                notifications.show({ color: "green", message: `Version ${v.number} of “${uploadTarget.name}” uploaded` });
              }
              await refresh();
              setUploadTarget(null);
            }}
          />
        ) : null}
      </Modal>

      <VersionsModal document={versionsOf} onClose={() => setVersionsOf(null)} />
    </>
  );
}
