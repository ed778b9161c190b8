from agyn.kit.platform import Module
from agyn.secrets.models import Secret, SecretProvider
from agyn.secrets.service import SecretProvidersService, SecretsService

MODULE = Module(
    name="secrets",
    tables=(SecretProvider, Secret,),
    collections=(SecretProvidersService, SecretsService,),
)
