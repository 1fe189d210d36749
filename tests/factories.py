"""factory_boy factories for the site's models."""
import factory
from django.utils import timezone

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-1")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ask.Tag"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag{n}")


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ask.Question"
        skip_postgeneration_save = True

    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"How do I sort list number {n} in Python?")
    text = "I have a list and want it sorted by the second field."
    text_html = factory.LazyAttribute(lambda q: f"<p>{q.text}</p>")
    created_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.tags.set(extracted)


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ask.Answer"

    question = factory.SubFactory(QuestionFactory)
    author = factory.SubFactory(UserFactory)
    text = "Use sorted() with a key function."
    text_html = factory.LazyAttribute(lambda a: f"<p>{a.text}</p>")
    created_at = factory.LazyFunction(timezone.now)
