"""The staff-only statistics page and its CSV download."""
import csv

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from ask.core.access import staff_required
from ask.core.params import whole_number
from ask.stats.charts import line_chart
from ask.stats.selectors import ORDER_FIELDS, PERIODS, SITE_FIELDS, last_days

CHARTS = [  # title, {label: field}, kind (whole-number ticks for counts)
    ("Q&A activity", {"questions": "questions", "answers": "answers", "votes": "votes",
                      "active users": "active_users"}, "count"),
    ("Members", {"new users": "new_users", "activations": "activations"}, "count"),
    ("Orders", {"placed": "placed", "delivered": "delivered", "cancelled": "cancelled"}, "count"),
    ("Revenue of delivered orders", {"revenue": "revenue"}, "amount"),
    ("Minutes from order to delivery", {"average": "avg_minutes", "95th percentile": "p95_minutes"}, "amount"),
    ("Share delivered late", {"late": "late_share"}, "percent"),
]


def _days(request: HttpRequest) -> int:
    days = whole_number(request.GET.get("days", "30"))
    if days not in PERIODS:
        raise Http404("Choose 30, 90 or 365 days.")
    return days


@staff_required
def stats_page(request: HttpRequest) -> HttpResponse:
    days = _days(request)
    rows = last_days(days)
    charts, css = [], []
    for title, series, kind in CHARTS:
        svg, chart_css = line_chart(title, rows, series, kind=kind)
        charts.append({"title": title, "svg": mark_safe(svg), "fields": list(series.values()), "labels": list(series)})
        css.append(chart_css)
    for chart in charts:
        chart["rows"] = [{"day": row["day"], "values": [row[f] for f in chart["fields"]]} for row in reversed(rows)]
    return render(request, "stats/stats.html", {"charts": charts, "days": days, "periods": PERIODS,
                                                "chart_css": mark_safe("\n".join(css))})


@staff_required
def stats_csv(request: HttpRequest) -> HttpResponse:
    days = _days(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ask-stats-{days}-days.csv"'
    writer = csv.writer(response)
    fields = ["day", *SITE_FIELDS, *ORDER_FIELDS]
    writer.writerow(fields)
    for row in last_days(days):
        writer.writerow(["" if row[f] is None else row[f] for f in fields])
    return response
