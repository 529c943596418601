from django import template

from automation.spec import action_words

register = template.Library()


@register.filter
def rule_action(item: dict) -> str:
    """An action a rule took, in the reader's words ("设置优先级: 紧急")."""
    try:
        return action_words(item)
    except (KeyError, TypeError, ValueError):
        return f"{item.get('type')} {item.get('value') or ''}"
