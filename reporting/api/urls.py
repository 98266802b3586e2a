from django.urls import path

from reporting.api import views

urlpatterns = [
    path("board/", views.BoardView.as_view(), name="api-board"),
    path("reports/<slug:name>/", views.ReportView.as_view(), name="api-report"),
]
