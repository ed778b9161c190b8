"""The HTTP layer every module's endpoints share: request dependencies and the generic collection
router. It sits on the kit and below every module."""
