"""Folders, documents and document versions data access (tenant-filtered; RLS is the second lock)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, literal, select, text

from core_api.crud import TenantRepository
from core_api.models.documents import Document, DocumentVersion, Folder
from core_api.problems import NotFound


class FolderRepository(TenantRepository[Folder]):
    model = Folder
    entity = "folder"
    sorts = {
        "name": func.lower(Folder.name).asc(),
        "-name": func.lower(Folder.name).desc(),
        "created_at": Folder.created_at.asc(),
        "-created_at": Folder.created_at.desc(),
        "updated_at": Folder.updated_at.asc(),
        "-updated_at": Folder.updated_at.desc(),
    }

    def require_shared(self, folder_id: uuid.UUID) -> Folder:
        """The folder, share-locked: it cannot be deleted (FOR UPDATE) until this transaction ends."""
        row = self.session.scalar(self.scoped().where(Folder.id == folder_id).with_for_update(read=True))
        if row is None:
            raise NotFound(self.entity)
        return row

    def name_taken(self, parent_id: uuid.UUID | None, name: str, *, exclude: uuid.UUID | None = None) -> bool:
        query = self.scoped().where(
            Folder.parent_id.is_(None) if parent_id is None else Folder.parent_id == parent_id,
            func.lower(Folder.name) == name.lower(),
        )
        if exclude is not None:
            query = query.where(Folder.id != exclude)
        return self.session.scalar(query.limit(1)) is not None

    def has_children(self, folder_id: uuid.UUID) -> bool:
        sub = self.scoped().where(Folder.parent_id == folder_id).limit(1)
        docs = (
            select(Document.id)
            .where(
                Document.firm_id == self.tenant.firm_id,
                Document.folder_id == folder_id,
                Document.deleted_at.is_(None),
            )
            .limit(1)
        )
        return self.session.scalar(sub) is not None or self.session.scalar(docs) is not None

    def ancestors(self, folder_id: uuid.UUID) -> list[uuid.UUID]:
        """The folder and every folder above it, nearest first."""
        up = (
            select(Folder.id, Folder.parent_id, literal(1).label("depth"))
            .where(Folder.firm_id == self.tenant.firm_id, Folder.id == folder_id)
            .cte("up", recursive=True)
        )
        parent = select(Folder.id, Folder.parent_id, (up.c.depth + 1).label("depth")).where(
            Folder.firm_id == self.tenant.firm_id, Folder.id == up.c.parent_id, up.c.depth < 1000
        )
        up = up.union_all(parent)
        return list(self.session.scalars(select(up.c.id).order_by(up.c.depth)))

    def lock_tree(self) -> None:
        """Serialise folder moves within the firm, so two concurrent moves cannot build a cycle."""
        self.session.execute(
            text("select pg_advisory_xact_lock(hashtextextended('app.folders:' || :firm, 0))"),
            {"firm": str(self.tenant.firm_id)},
        )


class DocumentRepository(TenantRepository[Document]):
    model = Document
    entity = "document"
    sorts = {
        "name": func.lower(Document.name).asc(),
        "-name": func.lower(Document.name).desc(),
        "created_at": Document.created_at.asc(),
        "-created_at": Document.created_at.desc(),
        "updated_at": Document.updated_at.asc(),
        "-updated_at": Document.updated_at.desc(),
    }

    def require_shared(self, document_id: uuid.UUID) -> Document:
        row = self.session.scalar(self.scoped().where(Document.id == document_id).with_for_update(read=True))
        if row is None:
            raise NotFound(self.entity)
        return row


class DocumentVersionRepository(TenantRepository[DocumentVersion]):
    model = DocumentVersion
    entity = "document version"
    sorts = {
        "created_at": DocumentVersion.created_at.asc(),
        "-created_at": DocumentVersion.created_at.desc(),
        "number": DocumentVersion.number.asc().nulls_last(),
        "-number": DocumentVersion.number.desc().nulls_last(),
    }

    def require_of(
        self, document_id: uuid.UUID, version_id: uuid.UUID, *, for_update: bool = False
    ) -> DocumentVersion:
        query = self.scoped().where(
            DocumentVersion.id == version_id, DocumentVersion.document_id == document_id
        )
        row = self.session.scalar(query.with_for_update() if for_update else query)
        if row is None:
            raise NotFound(self.entity)
        return row

    def by_ids(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, DocumentVersion]:
        if not ids:
            return {}
        return {v.id: v for v in self.session.scalars(self.scoped().where(DocumentVersion.id.in_(ids)))}

    def next_number(self, document_id: uuid.UUID) -> int:
        """Call with the document row locked: numbers are then gapless and never reused."""
        current = self.session.scalar(
            select(func.max(DocumentVersion.number)).where(
                DocumentVersion.firm_id == self.tenant.firm_id, DocumentVersion.document_id == document_id
            )
        )
        return (current or 0) + 1
