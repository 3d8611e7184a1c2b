"""The form fields several pages ask for, each defined once (labels are message ids, see ``N_``)."""

from __future__ import annotations

from broker.web.i18n import N_

EMAIL_FIELD = {"name": "email", "label": N_("Email address"), "type": "email", "autocomplete": "email"}
CODE_FIELD = {
    "name": "code",
    "label": N_("Security code"),
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "width": "10",
}
PASSWORD_FIELDS = [
    {
        "name": "password",
        "label": N_("Create your password"),
        "type": "password",
        "autocomplete": "new-password",
        "hint": N_("At least 8 characters. Three random words work well."),
    },
    {
        "name": "confirm",
        "label": N_("Confirm your password"),
        "type": "password",
        "autocomplete": "new-password",
    },
]
PHONE_FIELD = {
    "name": "phone",
    "label": N_("UK mobile phone number"),
    "type": "tel",
    "autocomplete": "tel",
    "width": "20",
    "hint": N_("Or an international number starting with +"),
}
