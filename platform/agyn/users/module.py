from agyn.authorization.service import AuthorizationService
from agyn.identity.service import IdentityService
from agyn.kit.platform import Module, Platform
from agyn.settings import Settings
from agyn.users.authentication import BearerAuthenticator
from agyn.users.endpoints import router
from agyn.users.models import ApiToken, User, WorkloadToken
from agyn.users.service import UsersService


def services(platform: Platform) -> list[object]:
    settings = platform.get(Settings)
    users = UsersService(platform.get(IdentityService), platform.get(AuthorizationService),
                         settings.token_cache_seconds, platform.clock)
    authenticator = BearerAuthenticator(users, settings.oidc)
    platform.authenticator = authenticator
    return [users, authenticator]


async def close(platform: Platform) -> None:
    await platform.get(BearerAuthenticator).aclose()


MODULE = Module(name="users", tables=(User, ApiToken, WorkloadToken), services=services, routers=(router,),
                on_stop=close)
