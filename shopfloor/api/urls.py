from django.urls import path

from shopfloor.api import views

urlpatterns = [path("board/", views.BoardView.as_view(), name="api-board")]
