from __future__ import annotations

from sqlalchemy import func

from core_api.crud import TenantRepository
from core_api.models import Lead


class LeadRepository(TenantRepository[Lead]):
    model = Lead
    entity = "lead"
    sorts = {
        "name": func.lower(Lead.name).asc(),
        "-name": func.lower(Lead.name).desc(),
        "score": Lead.score.asc(),
        "-score": Lead.score.desc(),
        "created_at": Lead.created_at.asc(),
        "-created_at": Lead.created_at.desc(),
    }
