"""A password change revokes every API token of the user.

A token is as good as the password that issued it: whoever changes a password (a suspected
leak, a lost laptop) expects the old access to end, as Django already does for sessions.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from .models import ApiToken

User = get_user_model()


@receiver(pre_save, sender=User)
def _note_password_change(sender, instance, update_fields=None, **kwargs):
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return  # a new user has no tokens; a last_login update cannot change the password
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._onebox_password_changed = stored is not None and stored != instance.password


@receiver(post_save, sender=User)
def _revoke_tokens(sender, instance, **kwargs):
    if getattr(instance, "_onebox_password_changed", False):
        ApiToken.objects.filter(user=instance).delete()
        instance._onebox_password_changed = False
