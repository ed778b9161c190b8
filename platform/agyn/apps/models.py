from agyn.apps.resources import APP, APP_INSTALLATION
from agyn.kit.collections import build_model

App = build_model(APP)
AppInstallation = build_model(APP_INSTALLATION)
