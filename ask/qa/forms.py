"""Forms of the Q&A pages."""
from django import forms
from django.urls import reverse_lazy

from ask.qa.text import parse_tags

PREVIEW_URL = reverse_lazy("preview")

# A post's Markdown at most (about 15 pages of text): what one render, excerpt or revision may cost.
TEXT_MAX = 30_000


class QuestionForm(forms.Form):
    title = forms.CharField(max_length=200, min_length=10, help_text="A specific question, in one line.")
    text = forms.CharField(min_length=20, max_length=TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 10, "data-preview-url": PREVIEW_URL}),
                           help_text="Markdown: **bold**, *italic*, `code`, lists and links.")
    tags = forms.CharField(max_length=120, required=False, help_text="Up to three, separated by spaces or commas.",
                           widget=forms.TextInput(attrs={"data-suggest-tags-url": reverse_lazy("tag_suggest"),
                                                         "autocomplete": "off"}))

    def clean_tags(self) -> list[str]:
        try:
            return parse_tags(self.cleaned_data["tags"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class AnswerForm(forms.Form):
    text = forms.CharField(label="Your answer", min_length=10, max_length=TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 8, "data-preview-url": PREVIEW_URL}),
                           help_text="Markdown: **bold**, *italic*, `code`, lists and links.")
