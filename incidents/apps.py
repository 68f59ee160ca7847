from django.apps import AppConfig

from tenancy.hooks import member_left, tenant_provisioned


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self) -> None:
        # The services import models, ready only now.
        from incidents import personal_data
        from incidents.services.defaults import tenant_defaults_install
        from incidents.services.leavers import member_left as hand_back

        tenant_provisioned.connect(tenant_defaults_install)
        member_left.connect(hand_back)
        personal_data.register()  # what incidents hold about a person (tenancy/personal_data.py)
