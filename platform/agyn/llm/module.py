from agyn.kit.platform import Module
from agyn.llm.models import LLMProvider, Model
from agyn.llm.service import LLMProvidersService, ModelsService

MODULE = Module(
    name="llm",
    tables=(LLMProvider, Model,),
    collections=(LLMProvidersService, ModelsService,),
)
