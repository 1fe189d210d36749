"""The checkout's form: a delivery slot (orders.slots) and an address, each error at its field."""
from django import forms

from orders.slots import Slot, grouped, slot_at

SLOT_GONE = "That time is no longer offered; choose one of the times below (the list is up to date)."


class CheckoutForm(forms.Form):
    eta = forms.ChoiceField(label="Delivery time", error_messages={"invalid_choice": SLOT_GONE,
                                                                  "required": "Choose a delivery time."})
    address = forms.CharField(label="Address", max_length=200, error_messages={
        "required": "Give the address to deliver to.",
        "max_length": "An address is at most 200 characters (this one has %(show_value)d)."})

    def __init__(self, *args, slots: list[Slot], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.slots = slots
        self.slot_groups = grouped(slots)
        self.fields["eta"].choices = [("", "Choose a time"), *self.slot_groups]
        self.fields["address"].widget.attrs.update(autocomplete="street-address")

    def clean_eta(self):
        return slot_at(self.cleaned_data["eta"])

    def clean_address(self) -> str:
        address = self.cleaned_data["address"].strip()
        if not address:
            raise forms.ValidationError("Give the address to deliver to.")
        return address
