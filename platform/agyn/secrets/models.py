from agyn.kit.collections import build_model
from agyn.secrets.resources import SECRET, SECRET_PROVIDER

SecretProvider = build_model(SECRET_PROVIDER)
Secret = build_model(SECRET)
