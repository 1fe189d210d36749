"""Forms over the custom user model (Django's own name `username` in their Meta)."""
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import User


class UserAdminCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "display_name"]


class UserAdminChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
