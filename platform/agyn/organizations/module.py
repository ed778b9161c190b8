from agyn.authorization.service import AuthorizationService
from agyn.identity.service import IdentityService
from agyn.kit.platform import Module, Platform
from agyn.organizations.endpoints import router
from agyn.organizations.models import Membership, Organization
from agyn.organizations.service import OrganizationsService
from agyn.users.service import UsersService


def services(platform: Platform) -> list[object]:
    organizations = OrganizationsService(platform.get(IdentityService), platform.get(AuthorizationService),
                                         platform.get(UsersService))
    platform.references["organizations"] = organizations
    platform.get(UsersService).removal_checks.append(organizations.ensure_not_last_owner)
    return [organizations]


MODULE = Module(name="organizations", tables=(Organization, Membership), services=services, routers=(router,))
