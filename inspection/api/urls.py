from rest_framework.routers import SimpleRouter

from inspection.api import views

router = SimpleRouter()
router.register("gauge-types", views.GaugeTypeViewSet)
router.register("gauges", views.GaugeViewSet)
router.register("calibrations", views.CalibrationViewSet)
router.register("inspection-plans", views.InspectionPlanViewSet)
router.register("characteristics", views.CharacteristicViewSet)
router.register("first-article-reports", views.FirstArticleReportViewSet)
router.register("nonconformances", views.NonConformanceViewSet)
router.register("inspection-records", views.InspectionRecordViewSet)
urlpatterns = router.urls
