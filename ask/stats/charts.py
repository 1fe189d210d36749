"""SVG charts of the statistics, rendered on the server by pygal (readable without JavaScript)."""
import pygal
from pygal.style import CleanStyle


def line_chart(title: str, days: list[dict], series: dict[str, str], *, percent: bool = False) -> str:
    """An inline SVG: one line per {label: field} over the days."""
    chart = pygal.Line(
        title=title, style=CleanStyle, js=[], disable_xml_declaration=True, show_dots=len(days) <= 31,
        x_label_rotation=30, show_minor_x_labels=False, height=300, width=800, explicit_size=False,
        value_formatter=(lambda v: f"{v:.0%}") if percent
        else (lambda v: f"{v:,.1f}" if isinstance(v, float) else f"{v:,}"),
    )
    labels = [day["day"].strftime("%b %d") for day in days]
    chart.x_labels = labels
    chart.x_labels_major = labels[:: max(1, len(labels) // 10)]
    for label, field in series.items():
        chart.add(label, [None if day[field] is None else float(day[field]) for day in days])
    return chart.render(is_unicode=True)
