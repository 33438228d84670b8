from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.models import Listing
from marketplace.prices import plain_amount


class PriceField(forms.DecimalField):
    """A price typed as people write it: the edit form shows `2750000`, not `2750000.00`."""

    def prepare_value(self, value: object) -> object:
        if isinstance(value, Decimal):
            return plain_amount(value)
        return value


class ListingForm(forms.ModelForm[Listing]):
    price = PriceField(label=_("Price"), min_value=Decimal("0"), max_digits=14, decimal_places=2)

    class Meta:
        model = Listing
        fields = ("title", "description", "price", "currency", "city", "mask_contact_details")
        labels = {
            "mask_contact_details": _("Hide phone numbers and e-mail addresses typed in messages"),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if len(title) < 3:
            raise forms.ValidationError(_("Give the listing a title of at least 3 characters."))
        return title
