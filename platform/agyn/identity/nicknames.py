"""The form of a handle (`@nickname`, username, app slug): declared once, for the registry and the rules."""

import re

NICKNAME = r"[a-z0-9_-]{1,32}"
NICKNAME_MESSAGE = "use 1 to 32 characters from a-z, 0-9, '_' and '-'"
NICKNAME_PATTERN = re.compile(f"^{NICKNAME}$")
