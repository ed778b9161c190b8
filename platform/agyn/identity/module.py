from agyn.identity.models import Identity, OrgNickname
from agyn.identity.service import IdentityService
from agyn.kit.platform import Module, Platform


def services(platform: Platform) -> list[object]:
    identity = IdentityService()
    platform.references["identities"] = identity
    return [identity]


MODULE = Module(name="identity", tables=(Identity, OrgNickname), services=services)
