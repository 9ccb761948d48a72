"""Staff accounts (admin only): list, add, unlock, reset the authenticator."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.errors import BadRequest
from bot.staff.console import Console, form_text, member_of, row_id
from bot.staff.models import ROLES
from bot.staff.service import inactive_usernames


def routes(console: Console) -> list[BaseRoute]:
    staff = console.staff

    def _page(request: Request, *, error: str | None = None, notice: str | None = None,
              status: int = 200) -> Response:
        return console.render(request, "admin_users.html",
                              {"users": staff.list_users(), "inactive": inactive_usernames(staff.sessions),
                               "roles": ROLES, "error": error, "notice": notice},
                              status=status, active="admin")

    async def users(request: Request) -> Response:
        return _page(request, notice=request.query_params.get("notice"))

    async def add(request: Request) -> Response:
        try:
            member = staff.add_user(
                username=await form_text(request, "username", limit=64, required=True),
                display_name=await form_text(request, "display_name", limit=100, required=True),
                role=await form_text(request, "role", limit=16, required=True),
                password=await form_text(request, "password", limit=256, required=True),
            )
        except BadRequest as exc:
            return _page(request, error=str(exc), status=400)
        return RedirectResponse(f"/staff/admin/users?notice=added+{member.username}", status_code=303)

    async def unlock(request: Request) -> Response:
        staff.unlock(user_id=row_id(request.path_params["user_id"], "staff member"))
        return RedirectResponse("/staff/admin/users?notice=unlocked", status_code=303)

    async def reset_totp(request: Request) -> Response:
        staff.reset_totp(user_id=row_id(request.path_params["user_id"], "staff member"))
        return RedirectResponse("/staff/admin/users?notice=authenticator+reset", status_code=303)

    async def deactivate(request: Request) -> Response:
        user_id = row_id(request.path_params["user_id"], "staff member")
        if user_id == member_of(request).id:
            raise BadRequest("you cannot deactivate yourself")
        staff.set_active(user_id=user_id, active=False)
        return RedirectResponse("/staff/admin/users?notice=deactivated", status_code=303)

    async def reactivate(request: Request) -> Response:
        staff.set_active(user_id=row_id(request.path_params["user_id"], "staff member"), active=True)
        return RedirectResponse("/staff/admin/users?notice=reactivated", status_code=303)

    return [
        Route("/admin/users/{user_id:int}/deactivate", console.page(deactivate, role="admin"), methods=["POST"]),
        Route("/admin/users/{user_id:int}/reactivate", console.page(reactivate, role="admin"), methods=["POST"]),
        Route("/admin/users", console.page(users, role="admin"), methods=["GET"]),
        Route("/admin/users", console.page(add, role="admin"), methods=["POST"]),
        Route("/admin/users/{user_id:int}/unlock", console.page(unlock, role="admin"), methods=["POST"]),
        Route("/admin/users/{user_id:int}/reset-totp", console.page(reset_totp, role="admin"), methods=["POST"]),
    ]
