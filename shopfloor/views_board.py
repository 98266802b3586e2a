"""The live machine board: one URL for the page and for the fragment its poll asks for."""

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shopfloor.selectors import BoardTile, board_version, machine_board

logger = logging.getLogger(__name__)

BODY_CACHE_SECONDS = 120


@dataclass(frozen=True)
class LiveBoard:
    version: str
    now: dt.datetime  # the server clock the page's "time in state" counters sync to
    body: SafeString


def live_board(*, today: dt.date, now: dt.datetime, version: str) -> LiveBoard:
    """The board's content for `version`, rendered once per version (and minute) for every viewer: what a
    board shows is the same for everybody, so 100 pollers after a change cost one render, not 100. The
    minute is in the key because the tiles' "time in state" text is drawn at render time (the page ticks it
    on from `data-since` between polls); the clock the page syncs to (`now`) stays per request, outside."""
    language = translation.get_language()
    key = f"shopfloor:board:{version}:{now:%Y%m%d%H%M}:{language}"
    try:
        body = cache.get(key)
    except Exception:  # the cache (Redis) is down: the board still shows, each poll rendering it
        logger.warning("Board cache unavailable; rendering without it", exc_info=True)
        body, key = None, None
    if body is None:
        board = machine_board(today=today, now=now, version=version)
        groups = [(group, mark_safe("".join(_tile_html(tile, language) for tile in group.tiles)))  # noqa: S308
                  for group in board.groups]
        body = render_to_string("shopfloor/partials/board_body.html", {"board": board, "groups": groups})
        if key is not None:
            try:
                cache.set(key, body, BODY_CACHE_SECONDS)
            except Exception:
                logger.warning("Board cache unavailable; not kept", exc_info=True)
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
        if request.GET.get("v") == version:
            response = HttpResponse(status=204)
        else:
            live = live_board(today=today, now=timezone.now(), version=version)
            # No request context: the fragment uses none, and the context processors would cost a query.
            response = HttpResponse(render_to_string("shopfloor/partials/board_live.html", {"live": live}))
    else:
        response = render(request, "shopfloor/board.html",
                          {"live": live_board(today=today, now=timezone.now(), version=version)})
    patch_vary_headers(response, ["HX-Request"])
    return response
