"""In-app: the row itself is the message. Delivering it makes it count in its recipient's bell
(the bell shows sent in-app rows), so sending is only checking the recipient may still see it."""

from escalation.channels.base import Transport, TransportError
from escalation.models import Notification
from tenancy.models import Membership


class InAppTransport(Transport):
    def notify(self, notification: Notification) -> None:
        if notification.recipient_id is None:
            raise TransportError("an in-app notification needs a recipient", permanent=True)
        member = (
            Membership.objects.for_tenant(notification.tenant_id)
            .filter(user_id=notification.recipient_id, is_active=True, user__is_active=True)
            .exists()
        )
        if not member:
            raise TransportError("the recipient is no longer an active member", permanent=True)
