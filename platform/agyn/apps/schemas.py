from agyn.apps.resources import APP, APP_INSTALLATION
from agyn.kit.collections import build_schemas

AppSchemas = build_schemas(APP)
AppInstallationSchemas = build_schemas(APP_INSTALLATION)
