from django.urls import path
from rest_framework.routers import SimpleRouter

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
urlpatterns = [
    *router.urls,
    path("machines/<int:machine_id>/dispatch-list/", views.DispatchListView.as_view(), name="machine-dispatch-list"),
]
