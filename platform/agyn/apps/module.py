from agyn.apps.models import App, AppInstallation
from agyn.apps.service import AppInstallationsService, AppsService
from agyn.kit.platform import Module

MODULE = Module(
    name="apps",
    tables=(App, AppInstallation,),
    collections=(AppsService, AppInstallationsService,),
)
