"""The live machine board: one URL for the page and for the fragment its poll asks for."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shopfloor.selectors import board_version, machine_board


@require_GET
@never_cache
def board(request):
    """The page; to its poll (an htmx request carrying the version it shows), 204 No Content when nothing
    changed (htmx then swaps nothing), else the live part of the board with its new version."""
    today = timezone.localdate()
    if request.htmx and not request.htmx.boosted:
        version = board_version(today=today)
        if request.GET.get("v") == version:
            response = HttpResponse(status=204)
        else:
            data = machine_board(today=today, now=timezone.now(), version=version)
            response = render(request, "shopfloor/partials/board_live.html", {"board": data})
    else:
        response = render(request, "shopfloor/board.html",
                          {"board": machine_board(today=today, now=timezone.now())})
    patch_vary_headers(response, ["HX-Request"])
    return response
