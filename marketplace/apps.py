from django.apps import AppConfig

from accounts import roles


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Listings and transactions"
    demo_phases = ["marketplace.demo.marketplace_phase"]
    role_permissions = {
        # Support agents answer renewal requests (a messaging category) by renewing the listing for the seller.
        roles.SUPPORT_AGENT: ["marketplace.view_listing", "marketplace.renew_listing", "marketplace.view_transaction"],
        roles.MODERATOR: ["marketplace.view_listing", "marketplace.view_transaction"],
        roles.ADMINISTRATOR: [
            "marketplace.view_listing",
            "marketplace.manage_listings",
            "marketplace.renew_listing",
            "marketplace.manage_marketplace_users",
            "marketplace.view_transaction",
            "marketplace.manage_transactions",
            "marketplace.view_category",
            "marketplace.add_category",
            "marketplace.change_category",
        ],
    }

    def ready(self) -> None:
        from . import moderation

        moderation.register()
