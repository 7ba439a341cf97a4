"""Admin endpoints every emulator shares. They live under ``/<vendor>/_sandbox`` and are not vendor API."""

from fastapi import APIRouter

from connectors.sandbox.common.faults import FaultInjector, FaultSpec


def fault_router(injector: FaultInjector) -> APIRouter:
    router = APIRouter(tags=["sandbox admin: faults"])

    @router.post("/faults", status_code=201, summary="Inject a fault for the next matching requests")
    async def add_fault(spec: FaultSpec) -> dict:
        return injector.add(spec).as_dict()

    @router.get("/faults", summary="Faults not used up yet")
    async def list_faults() -> dict:
        return {"faults": injector.pending()}

    @router.delete("/faults", summary="Remove every pending fault")
    async def clear_faults() -> dict:
        return {"cleared": injector.clear()}

    return router
