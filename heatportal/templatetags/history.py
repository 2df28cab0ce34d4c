"""``{% object_history obj %}``: an object's history of changes (heatportal/audit.py) on its page,
for administrators (the rule ``changes.view``); nothing for anyone else."""

from django import template
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from heatportal.labels import kind_label
from heatportal.permissions import allowed
from heatportal.selectors import change_history

register = template.Library()


@register.inclusion_tag("_history.html", takes_context=True)
def object_history(context, obj):
    request = context.get("request")
    if not isinstance(obj, Model) or request is None or not allowed(request.user, "changes.view"):
        return {"hidden": True}
    content_type = ContentType.objects.get_for_model(obj)
    return {
        "rows": change_history(obj),
        "kind": kind_label(content_type),
        "kind_id": content_type.pk,
        "object_pk": obj.pk,
    }
