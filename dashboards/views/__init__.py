"""The manager dashboard's pages (pages.py: the page and its CSV export; problems.py: the
problem figures' card), with the filter form (forms.py), the tiles and charts (charts.py), the
shapes they share with the table tag (presentation.py) and the CSV writer (export.py).
dashboards/urls.py names the pages from here."""

from dashboards.views.pages import export_csv, home
from dashboards.views.problems import problems_panel

__all__ = ["export_csv", "home", "problems_panel"]
