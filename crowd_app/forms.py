"""Forms of the crowd pages. :class:`TaskAnswerForm` reads a cruncher's answer and words what
is wrong with it for people; the API keeps its documented messages (``response: ...``)."""

from __future__ import annotations

import re

from django import forms

from crowd_app.models import CrowdRequest, RequestType
from crowd_app.validation import ANNOTATION_KINDS, MEDIA_ANSWER_TYPES, InvalidParams, answer_clean
from heatportal.api.input import BadInput, parse_json


class AccountForm(forms.Form):
    name = forms.CharField(max_length=100, label="Account name")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, label="Key name")
    test = forms.BooleanField(required=False, label="Test key (staging: answered by simulated crunchers)")


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *CrowdRequest.Status.choices], required=False)
    type = forms.ChoiceField(choices=[("", "Any type"), *RequestType.choices], required=False)
    staging = forms.ChoiceField(
        choices=[("", "Live and staging"), ("no", "Live"), ("yes", "Staging")],
        required=False,
        label="Environment",
    )


# The validation's messages (``<path>: <what>``, written for API clients) in people's words.
_HUMAN_WORDING = [
    (re.compile(r"must be a non-empty text"), "Please write an answer."),
    (re.compile(r"must be a number"), "Please enter a number."),
    (re.compile(r"must be a URL"), "Please enter a web address starting with http:// or https://."),
    (re.compile(r"must be a list of choices"), "Please choose an answer."),
    (re.compile(r"choose at least (\d+)"), r"Please choose at least \1."),
    (re.compile(r"choose at most (\d+)"), r"Please choose at most \1."),
    (re.compile(r"must be between (\S+) and (\S+)"), r"Please choose a value from \1 to \2."),
    (re.compile(r"must be (\S+) plus a multiple of (\S+)"), r"Please choose a value in steps of \2 from \1."),
    (re.compile(r"mark at least (\d+)"), r"Please mark at least \1."),
    (re.compile(r"mark at most (\d+)"), r"Please mark at most \1."),
    (re.compile(r"must be at most (\d+) characters"), r"Please keep the answer under \1 characters."),
    (re.compile(r"choose a file to upload"), "Please choose a file to upload."),
]
_PATH = re.compile(r"^response(?:\[(\d+)\])?[.\w\[\]]*: ")


def human_answer_error(message: str) -> str:
    """``response: must be a non-empty text`` → ``Please write an answer.``; a message about
    one annotation says which (``Annotation 2: please enter a number.``)."""
    path = _PATH.match(message)
    text = message[path.end() :] if path else message
    for pattern, wording in _HUMAN_WORDING:
        if pattern.fullmatch(text):
            text = pattern.sub(wording, text)
            break
    else:
        text = text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
    if path and path.group(1) is not None:
        return f"Annotation {int(path.group(1)) + 1}: {text[:1].lower()}{text[1:]}"
    return text


class TaskAnswerForm(forms.Form):
    """A cruncher's answer to ``crowd_request``, with one field by request type: ``choice``
    (multiple choice), ``text`` (free text), ``rating`` (empty until the cruncher picks a value:
    an untouched slider sends nothing), ``media`` (an upload) or ``answer`` (annotations as
    JSON, written by the page's script). ``cleaned_data["response"]`` is the answer as the
    validation stores it (not for media: the view stores the upload first)."""

    def __init__(self, *args, crowd_request: CrowdRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.crowd_request = crowd_request
        params = crowd_request.params
        request_type = crowd_request.type
        field: forms.Field
        if request_type == RequestType.MULTIPLE_CHOICE:
            self.answer_field = "choice"
            field = forms.MultipleChoiceField(
                choices=[(choice, choice) for choice in params.get("choices", [])],
                error_messages={
                    "required": "Please choose an answer.",
                    "invalid_choice": "Please choose among the answers shown.",
                },
            )
        elif request_type == RequestType.FREE_TEXT:
            self.answer_field = "text"
            field = forms.CharField(error_messages={"required": "Please write an answer."})
        elif request_type == RequestType.RATING:
            self.answer_field = "rating"
            field = forms.CharField(
                error_messages={"required": "Please choose a rating: move the slider or type a number."}
            )
        elif request_type in MEDIA_ANSWER_TYPES:
            self.answer_field = "media"
            field = forms.FileField(
                error_messages={
                    "required": "Please choose a file to upload.",
                    "empty": "The file is empty; please choose another one.",
                }
            )
        else:
            self.answer_field = "answer"
            field = forms.CharField(
                required=False, error_messages={"required": "Please mark the attachment."}
            )
        self.fields[self.answer_field] = field

    def clean(self):
        cleaned = super().clean()
        request_type = self.crowd_request.type
        if self.errors or request_type in MEDIA_ANSWER_TYPES:
            return cleaned
        value = cleaned[self.answer_field]
        if request_type in ANNOTATION_KINDS:
            try:
                value = parse_json(value or "[]")
            except BadInput:
                self.add_error(self.answer_field, "The marks could not be read; please draw them again.")
                return cleaned
        try:
            cleaned["response"] = answer_clean(request_type, self.crowd_request.params, value)
        except InvalidParams as error:
            self.add_error(self.answer_field, human_answer_error(error.message))
        return cleaned

    def add_service_error(self, message: str) -> None:
        """An error of the services (the answer, or the task: ``This request is complete``,
        an expired hold), in people's words."""
        field = self.answer_field if message.startswith("response") else None
        self.add_error(field, human_answer_error(message))

    @property
    def answer_error(self) -> str:
        """The first error, for the page's one error line."""
        for errors in self.errors.values():
            return str(errors[0])
        return ""
