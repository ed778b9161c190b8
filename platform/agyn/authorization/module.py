from agyn.authorization.models import AuthorizationTuple
from agyn.authorization.service import AuthorizationService
from agyn.kit.platform import Module, Platform
from agyn.settings import Settings


def services(platform: Platform) -> list[object]:
    authz = AuthorizationService.from_settings(platform.get(Settings))
    platform.authz = authz
    return [authz]


async def load_tuples(platform: Platform) -> None:
    """The embedded engine answers from memory: fill its index from the database."""
    async with platform.database.transaction() as session:
        await platform.get(AuthorizationService).load(session)


async def close(platform: Platform) -> None:
    await platform.get(AuthorizationService).backend.close()


MODULE = Module(name="authorization", tables=(AuthorizationTuple,), services=services, on_start=load_tuples,
                on_stop=close)
