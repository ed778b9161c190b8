from agyn.apps.resources import APP, APP_INSTALLATION
from agyn.apps.schemas import AppInstallationSchemas, AppSchemas
from agyn.kit.collections import collection_router

routers = [collection_router(APP, AppSchemas), collection_router(APP_INSTALLATION, AppInstallationSchemas)]
