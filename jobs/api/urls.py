from collections.abc import Iterator

from django.urls import URLPattern, include, path
from rest_framework.routers import SimpleRouter

from jobs.actions import ACTIONS
from jobs.api import views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet)
router.register("sales-orders", views.SalesOrderViewSet)
router.register("sales-order-lines", views.SalesOrderLineViewSet)
router.register("parts", views.PartViewSet)
router.register("part-revisions", views.PartRevisionViewSet)
router.register("routings", views.RoutingViewSet)
router.register("routing-steps", views.RoutingStepViewSet)
router.register("routing-step-machines", views.RoutingStepMachineViewSet)
router.register("nc-programs", views.NCProgramViewSet)
router.register("scrap-reasons", views.ScrapReasonViewSet)
router.register("material-lots", views.MaterialLotViewSet)
router.register("jobs", views.JobViewSet)
router.register("operations", views.OperationViewSet)
router.register("schedule-runs", views.ScheduleRunViewSet)


class OperationActionRoutes:
    """`operations/<id>/<slug>/` for each action of jobs.actions.ACTIONS offered on the floor, read from the table
    whenever a URL is resolved or the schema listed: the table is the one list of actions, routes and docs
    included."""

    def _routes(self) -> list[URLPattern]:
        return [path(f"{action.slug}/", views.OperationActionView.as_view(action_name=action.name),
                     name=f"operation-{action.slug}")
                for action in ACTIONS.values() if action.on_floor]

    def __iter__(self) -> Iterator[URLPattern]:
        return iter(self._routes())

    def __reversed__(self) -> Iterator[URLPattern]:  # Django reads reversed() to build its reverse lookups
        return reversed(self._routes())


urlpatterns = [
    *router.urls,
    path("operations/<int:pk>/", include(OperationActionRoutes())),
    path("machines/<int:machine_id>/dispatch-list/", views.DispatchListView.as_view(), name="machine-dispatch-list"),
]
