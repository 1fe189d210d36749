"""SVG charts of the statistics, rendered on the server by pygal (readable without JavaScript)."""
import re

import pygal
from pygal.style import CleanStyle


def line_chart(title: str, days: list[dict], series: dict[str, str], *, percent: bool = False,
               nonce: str = "") -> str:
    """An inline SVG: one line per {label: field} over the days, fit for the site's
    Content-Security-Policy (see csp_ready)."""
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
    return csp_ready(chart.render(is_unicode=True), nonce)


def csp_ready(svg: str, nonce: str) -> str:
    """pygal's SVG without what a strict policy blocks: its config <script> (js=[] leaves it with
    nothing to configure), style attributes (as SVG attributes instead), and its <style> with the
    response's nonce."""
    svg = re.sub(r"<script\b.*?</script>", "", svg, flags=re.S)
    svg = svg.replace('style="opacity: 0"', 'opacity="0"')
    return svg.replace("<style", f'<style nonce="{nonce}"') if nonce else svg
