from agyn.kit.collections import build_schemas
from agyn.runners.resources import RUNNER

RunnerSchemas = build_schemas(RUNNER)
