"""How the portal names a kind of object to people."""

from django.contrib.contenttypes.models import ContentType


def kind_label(content_type: ContentType) -> str:
    """The model's verbose name, capitalised ("Access group"); the bare model name when the
    model no longer exists."""
    model = content_type.model_class()
    return str(model._meta.verbose_name).capitalize() if model else content_type.model
