"""The site's user: identified by e-mail, shown by a unique display name."""
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, display_name: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("A user needs an e-mail address.")
        if not display_name:
            raise ValueError("A user needs a display name.")
        user = self.model(email=self.normalize_email(email).lower(), display_name=display_name, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, display_name: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, display_name, password, **extra)

    def create_superuser(self, email: str, display_name: str, password: str | None = None, **extra) -> "User":
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, display_name, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(
        "e-mail address", unique=True,
        error_messages={"unique": "An account with this e-mail address exists already."},
    )
    display_name = models.CharField(max_length=40, help_text="Shown next to questions and answers.")
    avatar = models.ImageField(upload_to="avatars/%Y/%m/", blank=True)
    # IANA name ("America/New_York"): times are shown to the member in it (accounts.timezones).
    time_zone = models.CharField(max_length=64, blank=True, default="", db_default="")
    is_staff = models.BooleanField(default=False, help_text="Can log into the admin site.")
    # False until the e-mailed activation key is used, or when an admin deactivates the account.
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # When the account was activated (by key or by an admin); an inactive user with this set was
    # deactivated on purpose and is never cleaned up as an abandoned sign-up.
    activated_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        constraints = [
            # Case-insensitive: "Ann" and "ann" are one name, and log-in by display name finds one user.
            models.UniqueConstraint(
                Lower("display_name"), name="accounts_user_display_name_ci_unique",
                violation_error_message="This display name is taken.",
            ),
            models.UniqueConstraint(
                Lower("email"), name="accounts_user_email_ci_unique",
                violation_error_message="An account with this e-mail address exists already.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    # Sessions end when the password or the e-mail address changes (Django's covers the password only):
    # a new address logs out every other browser (accounts.email_change keeps the one that changed it).
    def get_session_auth_hash(self) -> str:
        return self._session_hash(None)

    def get_session_auth_fallback_hash(self):
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret)

    def _session_hash(self, secret: str | None) -> str:
        return salted_hmac("accounts.User.get_session_auth_hash", f"{self.password}\0{self.email.lower()}",
                           secret=secret, algorithm="sha256").hexdigest()


class ActivationKey(models.Model):
    """One e-mailed activation key. Only its SHA-256 is stored: a database leak activates nobody."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="activation_keys")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)  # the account was activated with it
    replaced_at = models.DateTimeField(null=True, blank=True)  # a resend issued a newer key

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="accounts_key_expires")]

    def __str__(self) -> str:
        return f"activation key of user {self.user_id}"


class MemberSession(AbstractBaseSession):
    """A session (accounts.sessions), with the id of the member logged in to it in a column of its
    own: a page for a member reads the session and the member in one joined SELECT."""

    user_id = models.BigIntegerField(null=True, blank=True)  # no foreign key: a session outlives nothing

    @classmethod
    def get_session_store_class(cls):
        from accounts.sessions import SessionStore

        return SessionStore
