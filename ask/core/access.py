"""Who may open a page: the decorators the apps' staff pages share."""
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse


def staff_required(view):
    """Staff only. A visitor is sent to the site's own log-in page (and back after it), not the
    admin's unbranded one; a member who is not staff gets a 404: there is nothing for them there."""
    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise Http404("No such page.")
        return view(request, *args, **kwargs)
    return checked
