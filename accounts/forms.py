"""Forms of the accounts app: sign-up, log-in, resend, profile settings, and the admin's forms."""
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import (
    AdminUserCreationForm, AuthenticationForm, BaseUserCreationForm, SetPasswordForm, UserChangeForm,
)
from django.template import loader

from accounts.timezones import zone_names
from accounts.models import User
from accounts.avatars import avatar_problem
from accounts.selectors import pending_sign_up
from ask.core.outbox import mail_queue


CONSTRAINT_FIELDS = {"accounts_user_display_name_ci_unique": "display_name", "accounts_user_email_ci_unique": "email"}


class SignUpForm(BaseUserCreationForm):
    """Validates a sign-up (Django's password validators included); accounts.services creates the user."""

    class Meta:
        model = User
        fields = ["email", "display_name"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        # A never-activated sign-up of this address is replaced by this one (accounts.services.user_sign_up):
        # validating against it as the instance lets its address and display name count as free.
        self.instance = pending_sign_up(email) or self.instance
        return email

    def clean_display_name(self) -> str:
        return self.cleaned_data["display_name"].strip()

    def _post_clean(self) -> None:
        super()._post_clean()
        # The case-insensitive unique constraints are on expressions (Lower(...)), so Django reports
        # them for the whole form, at its top; each belongs at its own field, said once.
        general = self._errors.get(NON_FIELD_ERRORS) if self._errors else None
        for constraint in User._meta.constraints:
            field = CONSTRAINT_FIELDS.get(constraint.name)
            message = getattr(constraint, "violation_error_message", None)
            if not (field and general and message in general):
                continue
            general.data = [error for error in general.data if message not in getattr(error, "messages", [error])]
            if message not in self._errors.get(field, []):
                self._errors.setdefault(field, self.error_class()).append(message)
        if general is not None and not general:
            del self._errors[NON_FIELD_ERRORS]


class ActivationForm(forms.Form):
    """The activation page's POST; with a user, it also asks for a new password (SetPasswordForm's fields)."""

    def __init__(self, user: User | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.password_form = SetPasswordForm(user, *args, **kwargs) if user is not None else None
        if self.password_form:
            self.fields.update(self.password_form.fields)

    def clean(self):
        if self.password_form and not self.password_form.is_valid():
            for field, errors in self.password_form.errors.items():
                if field in self.errors:
                    continue  # the same field of this form said it already ("This field is required.")
                for error in errors:
                    self.add_error(None if field == "__all__" else field, error)
        return self.cleaned_data

    @property
    def new_password(self) -> str | None:
        return self.password_form.cleaned_data.get("new_password1") if self.password_form else None


class LoginForm(AuthenticationForm):
    """Log-in by e-mail or display name; tells a not-yet-activated user how to activate."""

    needs_activation = False
    # Django's says both fields "may be case-sensitive"; here the name is not, the password is.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "No account matches that e-mail or display name with this password. The name "
                         "may be typed in any case; the password must be exact.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "E-mail or display name"

    def confirm_login_allowed(self, user: User) -> None:
        if not user.is_active and user.activated_at is None:
            self.needs_activation = True
            raise forms.ValidationError(
                "This account is not activated yet: follow the link in the activation e-mail.", code="inactive"
            )
        if not user.is_active:
            raise forms.ValidationError("This account has been deactivated.", code="inactive")


AVATAR_MAX_BYTES = 1024 * 1024


class AvatarInput(forms.ClearableFileInput):
    """The picture itself (not Django's "Currently: avatars/2026/12/x.png"), a "Remove it" box, and a
    file chooser offering pictures only."""

    template_name = "accounts/widgets/avatar.html"

    def __init__(self, attrs=None) -> None:
        super().__init__({"accept": "image/png,image/jpeg,image/gif,image/webp", **(attrs or {})})


class ProfileForm(forms.ModelForm):
    """The member's own settings: display name, avatar and time zone (the address has EmailChangeForm)."""

    time_zone = forms.TypedChoiceField(
        required=False, label="Time zone", empty_value="",
        help_text="Times of your orders are shown in it. Left empty, your browser's is taken.",
        error_messages={"invalid_choice": "Choose a time zone from the list."})

    class Meta:
        model = User
        fields = ["display_name", "avatar", "time_zone"]
        widgets = {"avatar": AvatarInput}
        help_texts = {"avatar": "A PNG, JPEG, GIF or WebP picture up to 1 MB; it is stored at 256 pixels a side."}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", "Your browser's"), *((name, name) for name in sorted(zone_names()))]

    def clean_display_name(self) -> str:
        return self.cleaned_data["display_name"].strip()

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar and hasattr(avatar, "size"):
            if avatar.size > AVATAR_MAX_BYTES:
                raise forms.ValidationError("The picture is larger than 1 MB.")
            problem = avatar_problem(avatar)
            if problem:
                raise forms.ValidationError(problem)
        return avatar


class EmailChangeForm(forms.Form):
    """A new address and the current password: a session alone cannot move the account elsewhere."""

    new_email = forms.EmailField(label="New e-mail address", max_length=254)
    password = forms.CharField(label="Your password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_new_email(self) -> str:
        email = self.cleaned_data["new_email"].strip().lower()
        if email == self.user.email.lower():
            raise forms.ValidationError("This is your address already.")
        if User.objects.filter(email__iexact=email).exclude(pk=self.user.pk).exists():
            raise forms.ValidationError("An account with this e-mail address exists already.")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("This is not your current password.")
        return password


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form with two changes. The mail goes through the outbox as a one-time link
    (redacted once sent). Members without a usable password get the link too: import_data creates
    members that way, and a reset is how they choose a password (Django skips them, for sites where
    such users log in elsewhere; this site has no other log-in)."""

    def get_users(self, email: str):
        return User.objects.filter(email__iexact=email.strip(), is_active=True)

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        mail_queue(to=to_email, subject=subject, body=loader.render_to_string(email_template_name, context),
                   one_time_link=True)


class ResendForm(forms.Form):
    email = forms.EmailField(label="E-mail address")


class UserAdminCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "display_name"]


class UserAdminChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
