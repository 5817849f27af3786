"""Vendors: the post-office livestream room, the supermarkets, a farm; their staff and pickup points.

An administrator sets vendors up (``assistant vendor add`` or the demo data).
Staff are chat addresses: the people registered at them get the ``vendor``
role (which shows them the vendor's commands; staff who register later get it
when they register), and a person at one of them may manage the vendor's
listings and orders (``/vendor``, ``/newlisting``); coordinators may manage
every vendor. Every right is checked again inside the deciding transaction.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from assistant.services import people
from assistant.services.orders.records import (
    STAFF_ROLE,
    VENDORS,
    NotStaff,
    PickupPoint,
    Vendor,
    VendorKind,
)
from assistant.store.base import Doc, Tx

if TYPE_CHECKING:
    from assistant.app import App

VENDOR_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class BadVendor(ValueError):
    """A vendor that cannot be set up; the message says which part is wrong."""


def parse_point(text: str) -> PickupPoint:
    """``id=中文名|English name`` → a pickup point.

    Raises:
        BadVendor: no id, a bad id, or no Chinese name.
    """
    point_id, sep, names = text.partition("=")
    name_zh, _, name_en = names.partition("|")
    point_id, name_zh, name_en = point_id.strip(), name_zh.strip(), name_en.strip()
    if not sep or not VENDOR_ID.match(point_id) or not name_zh:
        raise BadVendor(f"pickup point {text!r}: write it as id=中文名|English name")
    return PickupPoint(point_id, name_zh, name_en or name_zh)


def add_vendor(tx: Tx, vendor: Vendor) -> Doc:
    """Set up a vendor, or replace the one with the same id (the command can be run again).

    Raises:
        BadVendor: a bad id, no name, a staff entry that is no chat address, two points alike.
    """
    if not VENDOR_ID.match(vendor.id):
        raise BadVendor(f"vendor id {vendor.id!r}: lower-case letters, digits and '-'")
    if not vendor.name_zh.strip():
        raise BadVendor("a vendor needs a Chinese name")
    for address in vendor.staff:
        if ":" not in address:
            raise BadVendor(f"staff {address!r} is not a chat address like telegram:123")
    ids = [p.id for p in vendor.pickup_points]
    if len(set(ids)) != len(ids):
        raise BadVendor("two pickup points share an id")
    doc = vendor.to_doc()
    tx.put(VENDORS, vendor.id, doc)
    for person in staff_people(tx, vendor):
        if STAFF_ROLE not in person.get("roles", []):
            person["roles"] = sorted({*person.get("roles", []), STAFF_ROLE})
            tx.put(people.PEOPLE, person["id"], person)
    for address in vendor.staff:
        if people.person_at(tx, address) is None:
            people.grant_when_registered(tx, address, STAFF_ROLE)
    return doc


def all_vendors(tx: Tx) -> list[Vendor]:
    """Every vendor, by id."""
    return [Vendor.from_doc(doc) for doc in tx.all(VENDORS)]


def is_staff(app: App, person: Doc | None, vendor: Vendor) -> bool:
    """Whether a person may manage this vendor: one of its staff addresses, or a coordinator."""
    if person is None:
        return False
    if set(person.get("addresses", [])) & set(vendor.staff):
        return True
    return people.has_role(app, person, people.COORDINATOR)


def managed_by(tx: Tx, app: App, person: Doc | None) -> list[Vendor]:
    """The vendors a person may manage (every one for a coordinator)."""
    return [vendor for vendor in all_vendors(tx) if is_staff(app, person, vendor)]


def require_staff(tx: Tx, app: App, person: Doc | None, vendor_id: str) -> Vendor:
    """The vendor, if the person may manage it.

    Raises:
        NotStaff: no such vendor, or the person is none of its staff.
    """
    doc = tx.get(VENDORS, vendor_id)
    if doc is None:
        raise NotStaff()
    vendor = Vendor.from_doc(doc)
    if not is_staff(app, person, vendor):
        raise NotStaff()
    return vendor


def staff_people(tx: Tx, vendor: Vendor) -> list[Doc]:
    """The registered people behind a vendor's staff addresses."""
    found: dict[str, Doc] = {}
    for address in vendor.staff:
        person = people.person_at(tx, address)
        if person is not None:
            found[person["id"]] = person
    return list(found.values())


def vendor_kind(text: str) -> VendorKind:
    """The kind named on the command line."""
    try:
        return VendorKind(text)
    except ValueError:
        raise BadVendor(f"kind {text!r}: one of {', '.join(VendorKind)}") from None
