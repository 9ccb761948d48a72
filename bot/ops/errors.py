"""The HTTP answer when the database cannot be reached: a clear 503, not an apology for a bug.

The connection pool pings before use (``pool_pre_ping``), so once the database is back
the next request gets a fresh connection; nothing else needs restarting.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger(__name__)

MESSAGE = ("The help desk cannot reach its database just now, so your message was not taken. "
           "Please send it again in a minute, or call the CSRA Call Center at 800-688-6696.")


async def database_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable on %s: %s", request.method, type(exc).__name__)
    return JSONResponse({"error": MESSAGE}, status_code=503, headers={"Retry-After": "30"})
