from agyn.kit.collections import build_model
from agyn.runners.resources import RUNNER

Runner = build_model(RUNNER)
