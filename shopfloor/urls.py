from django.urls import path

from shopfloor import views

urlpatterns = [path("", views.home, name="home")]
