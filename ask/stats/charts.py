"""SVG charts of the statistics, rendered on the server by pygal (readable without JavaScript)."""
import pygal

from ask.core.charts import STYLE, count_ticks, csp_ready


def line_chart(title: str, days: list[dict], series: dict[str, str], *, kind: str = "count") -> tuple[str, str]:
    """An inline SVG and its CSS: one line per {label: field} over the days, fit for the site's
    Content-Security-Policy (see csp_ready). kind: "count" (whole ticks), "amount" or "percent"."""
    chart = pygal.Line(
        title=title, style=STYLE, js=[], disable_xml_declaration=True, show_dots=len(days) <= 31,
        x_label_rotation=45, show_minor_x_labels=False, height=340, width=420, explicit_size=False,
        legend_at_bottom=True, legend_at_bottom_columns=2, no_data_text="No data for these days yet",
        value_formatter=(lambda v: f"{v:.0%}") if kind == "percent"
        else (lambda v: f"{v:,.0f}") if kind == "count" else (lambda v: f"{v:,.1f}"),
    )
    labels = [day["day"].strftime("%b %d") for day in days]
    chart.x_labels = labels
    chart.x_labels_major = labels[:: max(1, len(labels) // 6)]
    values = {label: [None if day[field] is None else float(day[field]) for day in days]
              for label, field in series.items()}
    if kind == "count":
        chart.y_labels = count_ticks(max((v for line in values.values() for v in line if v is not None), default=0))
    for label, line in values.items():
        chart.add(label, line)
    return csp_ready(chart.render(is_unicode=True))
