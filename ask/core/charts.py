"""Server-side SVG charts (pygal) fit for the site's Content-Security-Policy and the HTML checker;
the statistics and the jobs pages draw theirs with these."""
import html
import math
import re

from pygal.style import CleanStyle

# Drawn about 420 wide and scaled to the page (site.css enlarges its words on a phone, where it is
# scaled down); on a desktop a figure stops at 640 px. "No data" in the site's own type.
STYLE = CleanStyle(font_family="system-ui, -apple-system, 'Segoe UI', sans-serif", label_font_size=14,
                   major_label_font_size=14, legend_font_size=14, title_font_size=17, tooltip_font_size=14,
                   no_data_font_size=18, value_font_size=14)


def csp_ready(svg: str) -> tuple[str, str]:
    """pygal's SVG without what a strict policy blocks, and its CSS apart: its config <script> (js=[]
    leaves it with nothing to configure) and style attributes (as SVG attributes instead) go; its
    <style> (rules scoped to the chart's own id) is returned to go into the page's <head> with the
    response's nonce (a nonce on a <style> inside <svg> is not valid HTML). Its legend ids
    ("activate-serie-0", for the script) repeat in every chart of a page, so they go too."""
    svg = re.sub(r"<script\b.*?</script>", "", svg, flags=re.S)
    svg = re.sub(r' id="activate-serie-\d+"', "", svg)
    svg = svg.replace('style="opacity: 0"', 'opacity="0"')
    # In the SVG it is XML-escaped ("&gt;"); a <style> in HTML reads it raw. pygal writes the rules
    # from its own style settings, never from chart data, so nothing a member typed gets in there.
    css = html.unescape("\n".join(re.findall(r"<style[^>]*>(.*?)</style>", svg, flags=re.S))).replace("</", "<\\/")
    return re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S), css


def count_ticks(peak: float) -> list[int]:
    """Whole-number ticks from 0 past the peak, at most about six ("0.1 … 0.9 new users" before)."""
    step = max(1, math.ceil(peak / 5))
    magnitude = 10 ** max(0, len(str(step)) - 1)
    step = math.ceil(step / magnitude) * magnitude  # 1, 2, 3 … 10, 20 … : round steps
    return list(range(0, int(peak) + step + 1, step)) if peak > 0 else [0, 1]
