from django.apps import AppConfig

from accounts import roles


class MarketplaceConfig(AppConfig):
    name = "marketplace"
    verbose_name = "Listings and transactions"
    # Audit actions in words (saypro.audit.labels).
    audit_labels = {
        "listing.create": "posted the listing",
        "listing.expire": "expired the listing",
        "listing.hold": "put the listing on hold",
        "listing.remove": "removed the listing",
        "listing.renew": "renewed the listing",
        "listing.restore": "restored the listing",
        "listing.suspend": "suspended the listing",
        "listing.unsuspend": "lifted the listing's suspension",
        "listing.update": "edited the listing",
        "profile.update": "edited the profile",
        "transaction.start": "started the transaction",
        "transaction.paid": "marked the transaction paid",
        "transaction.completed": "completed the transaction",
        "transaction.refunded": "refunded the transaction",
        "transaction.disputed": "disputed the transaction",
        "transaction.pending": "set the transaction back to pending",
    }
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
