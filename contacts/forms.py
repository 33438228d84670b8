from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from contacts.models import Channel, User
from contacts.phones import InvalidPhoneNumber, normalize_phone
from contacts.time_zones import zone_choices

REGIONS = [
    ("ID", _("Indonesia (+62)")),
    ("US", _("United States (+1)")),
    ("SG", _("Singapore (+65)")),
    ("MY", _("Malaysia (+60)")),
    ("GB", _("United Kingdom (+44)")),
    ("AU", _("Australia (+61)")),
]


class SignupForm(UserCreationForm[User]):
    email = forms.EmailField(label=_("Email"))
    display_name = forms.CharField(label=_("Your name (only you see it)"), required=False)

    class Meta:
        model = User
        fields = ("username", "email", "display_name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(_("An account with this email already exists."))
        return email


class PhoneForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[(Channel.WHATSAPP, "WhatsApp"), (Channel.SMS, "SMS")]
    )
    region = forms.ChoiceField(label=_("Country"), choices=REGIONS, initial="ID")
    number = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": "0812-3456-7890", "inputmode": "tel"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "number" in data and "region" in data:
            try:
                data["e164"] = normalize_phone(data["number"], region=data["region"])
            except InvalidPhoneNumber as error:
                self.add_error("number", error.message)
        return data


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("6-digit code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6 digits from the message.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class LinkForm(forms.Form):
    channel = forms.ChoiceField(
        choices=[(Channel.MESSENGER, "Messenger"), (Channel.INSTAGRAM, "Instagram")]
    )


class NotificationForm(forms.Form):
    email_notifications = forms.BooleanField(
        label=_("E-mail me about new conversations and unread messages"), required=False
    )


class TimeZoneForm(forms.Form):
    """The zone a user reads every time in; options from contacts.time_zones."""

    time_zone = forms.ChoiceField(label=_("Show times in"))

    def __init__(self, *args: Any, current: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = zone_choices(current)
        field.initial = current


class LanguageForm(forms.Form):
    # Each language in its own name, so a seller finds theirs whatever the page's language.
    language = forms.ChoiceField(
        label=_("Perantara writes to you in"),
        choices=[("id", "Bahasa Indonesia"), ("en", "English")],
    )
