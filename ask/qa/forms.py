"""Forms of the Q&A pages."""
from django import forms

from ask.qa.text import parse_tags

# A post's Markdown at most (about 15 pages of text): what one render, excerpt or revision may cost.
TEXT_MAX = 30_000


class QuestionForm(forms.Form):
    title = forms.CharField(max_length=200, min_length=10, help_text="A specific question, in one line.")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), min_length=20, max_length=TEXT_MAX,
                           help_text="Markdown: **bold**, *italic*, `code`, lists and links.")
    tags = forms.CharField(max_length=120, required=False, help_text="Up to three, separated by spaces or commas.")

    def clean_tags(self) -> list[str]:
        try:
            return parse_tags(self.cleaned_data["tags"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class AnswerForm(forms.Form):
    text = forms.CharField(label="Your answer", widget=forms.Textarea(attrs={"rows": 8}), min_length=10,
                           max_length=TEXT_MAX,
                           help_text="Markdown: **bold**, *italic*, `code`, lists and links.")
