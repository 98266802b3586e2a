"""The live machine board: one URL for the page and for the fragment its poll asks for."""

import datetime as dt
from dataclasses import dataclass

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.cache import cache_get, cache_set
from reporting.board import BoardTile, board_version, machine_board

BODY_CACHE_SECONDS = 120
# How far behind the floor the board may be: within this many seconds of a render every viewer gets that render,
# whatever changed since. On a busy floor the board's version moves several times a second (every report), so
# without it nearly every poll of every screen would render. The page polls every 3 s (board_live.html): a change
# at a machine shows within 5 s for 95 % of screens with this window (bench/collector).
REFRESH_SECONDS = 2


@dataclass(frozen=True)
class LiveBoard:
    version: str  # the version of `body`, which may be a little older than the floor's
    now: dt.datetime  # the server clock the page's "time in state" counters sync to
    body: SafeString


def live_board(*, today: dt.date, now: dt.datetime, version: str) -> LiveBoard:
    """The board's content, rendered at most once per REFRESH_SECONDS for every viewer: what a board shows is the
    same for everybody, so 100 screens polling a busy floor cost one render every two seconds, not one per poll.
    After that a render is reused only while its version is the floor's and its minute is the clock's, since the
    tiles' "time in state" text is drawn at render time (the page ticks it on from `data-since` between polls);
    the clock the page syncs to (`now`) stays per request, outside."""
    language = translation.get_language()
    key = f"shopfloor:board:{language}"
    latest = cache_get(key)
    if latest is not None:
        rendered_version, rendered_at, body = latest
        same_minute = rendered_at.replace(second=0, microsecond=0) == now.replace(second=0, microsecond=0)
        if (now - rendered_at).total_seconds() < REFRESH_SECONDS or (rendered_version == version and same_minute):
            return LiveBoard(version=rendered_version, now=now, body=mark_safe(body))  # noqa: S308 (our render)
    board = machine_board(today=today, now=now, version=version)
    groups = [(group, mark_safe("".join(_tile_html(tile, language) for tile in group.tiles)))  # noqa: S308
              for group in board.groups]
    body = render_to_string("shopfloor/partials/board_body.html", {"board": board, "groups": groups})
    cache_set(key, (version, now, body), BODY_CACHE_SECONDS)
    return LiveBoard(version=version, now=now, body=mark_safe(body))  # noqa: S308 (our own template's output)


# Tiles drawn lately, by what they show: a change (a report, a state) draws its own tile again, not all 60.
# In process (a tile is a pure function of its fingerprint, so nothing needs invalidating), bounded.
_drawn_tiles: dict[tuple, str] = {}
DRAWN_TILES_MAX = 5000


def _tile_html(tile: BoardTile, language: str) -> str:
    key = (language, tile.fingerprint)
    html = _drawn_tiles.get(key)
    if html is None:
        html = render_to_string("shopfloor/partials/board_tile.html", {"tile": tile})
        if len(_drawn_tiles) >= DRAWN_TILES_MAX:
            _drawn_tiles.clear()
        _drawn_tiles[key] = html
    return html


@require_GET
@never_cache
def board(request):
    """The page; to its poll (an htmx request carrying the version it shows), 204 No Content when nothing
    changed (htmx then swaps nothing), else the live part of the board with its new version."""
    today = timezone.localdate()
    # The version is read first: a change made while the board is read shows at the next poll, never is lost.
    version = board_version(today=today)
    if request.htmx and not request.htmx.boosted:
        shown = request.GET.get("v")
        live = None if shown == version else live_board(today=today, now=timezone.now(), version=version)
        if live is None or live.version == shown:  # nothing newer than what the screen shows, or not drawn yet
            response = HttpResponse(status=204)
        else:
            # No request context: the fragment uses none, and the context processors would cost a query.
            response = HttpResponse(render_to_string("shopfloor/partials/board_live.html", {"live": live}))
    else:
        response = render(request, "shopfloor/board.html",
                          {"live": live_board(today=today, now=timezone.now(), version=version)})
    patch_vary_headers(response, ["HX-Request"])
    return response
