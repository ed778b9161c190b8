from agyn.kit.collections import build_schemas
from agyn.secrets.resources import SECRET, SECRET_PROVIDER

SecretProviderSchemas = build_schemas(SECRET_PROVIDER)
SecretSchemas = build_schemas(SECRET)
