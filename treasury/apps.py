from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreasuryConfig(AppConfig):
    name = "treasury"
    verbose_name = _("Treasury reconciliation")

    def ready(self) -> None:
        # The grant pages show "confirmed by bank" and a payment's bank lines through this hook (grants sits
        # below treasury and does not import it).
        from grants.selectors import BankView, bank_view_register
        from treasury import selectors

        bank_view_register(
            view=BankView(
                known=selectors.statements_imported, confirmed=selectors.confirmed_condition, lines=selectors.bank_lines
            )
        )
