from __future__ import annotations

from fastapi import Depends

from agyn.api.dependencies import authenticate
from agyn.kit.errors import InvalidArgument
from agyn.kit.http import TransactionalRoute
from agyn.kit.routing import ModuleRouter
from agyn.token_counting.counting import CountingError, count_items
from agyn.token_counting.schemas import ItemTokenCount, TokenCountRequest, TokenCountResponse

# TransactionalRoute closes the session that authentication opened
router = ModuleRouter(prefix="/api/v1", tags=["token-counts"], dependencies=[Depends(authenticate)],
                   route_class=TransactionalRoute)


@router.post("/token-counts", response_model=TokenCountResponse, summary="Count the tokens of Responses items")
def count_tokens(body: TokenCountRequest) -> TokenCountResponse:
    """Per-item token counts of OpenAI Responses input items for a model, and their total."""
    try:
        counts = count_items(body.input, body.model)
    except CountingError as error:
        raise InvalidArgument(str(error)) from None
    return TokenCountResponse(
        items=[ItemTokenCount(index=c.index, type=c.type, tokens=c.tokens) for c in counts.items],
        request_overhead=counts.request_overhead, total=counts.total)
