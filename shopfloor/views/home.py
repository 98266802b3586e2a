from django.shortcuts import render
from django.utils import timezone

from reporting.selectors import home_panels


def home(request):
    panels = home_panels(user=request.user, today=timezone.localdate())
    return render(request, "shopfloor/home.html", {"panels": panels})
