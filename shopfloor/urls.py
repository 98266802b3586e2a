from django.urls import path

from shopfloor import views, views_board, views_terminal, views_travelers

urlpatterns = [
    path("", views.home, name="home"),
    path("board/", views_board.board, name="board"),
    path("terminal/", views_terminal.terminal_choose, name="terminal-choose"),
    path("terminal/<int:machine_id>/", views_terminal.terminal, name="terminal"),
    path("terminal/<int:machine_id>/scan/", views_terminal.terminal_scan, name="terminal-scan"),
    path("terminal/<int:machine_id>/operations/<int:operation_id>/<slug:action>/", views_terminal.terminal_action,
         name="terminal-action"),
    path("jobs/<int:job_id>/traveler.pdf", views_travelers.job_traveler, name="job-traveler"),
]
