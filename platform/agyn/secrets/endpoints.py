from agyn.kit.collections import collection_router
from agyn.secrets.resources import SECRET, SECRET_PROVIDER
from agyn.secrets.schemas import SecretProviderSchemas, SecretSchemas

routers = [collection_router(SECRET_PROVIDER, SecretProviderSchemas), collection_router(SECRET, SecretSchemas)]
