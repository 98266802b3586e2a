from django.urls import path
from rest_framework.routers import SimpleRouter

from machines.api import views

router = SimpleRouter()
router.register("work-centers", views.WorkCenterViewSet)
router.register("machines", views.MachineViewSet)
router.register("calendars", views.CalendarViewSet)
router.register("shift-windows", views.ShiftWindowViewSet)
router.register("calendar-exceptions", views.CalendarExceptionViewSet)
router.register("fixtures", views.FixtureViewSet)
router.register("changeover-rules", views.ChangeoverRuleViewSet)
router.register("downtime-reasons", views.DowntimeReasonViewSet)
router.register("state-events", views.MachineStateEventViewSet)
urlpatterns = [
    *router.urls,
    path("machines/<int:machine_id>/signals/", views.MachineSignalsView.as_view(), name="machine-signals"),
]
