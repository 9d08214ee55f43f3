"""schema.org GovernmentService for a service page, so search engines and harvesters read it."""

from __future__ import annotations

from typing import Any

from portal.catalogue.models import Service
from portal.web.i18n import localized


def service_json_ld(*, service: Service, page_url: str, locale: str) -> dict[str, Any]:
    """The JSON-LD object of one service, in the reader's language."""
    institution = service.institution
    channels = service.channels
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "@id": page_url,
        "identifier": service.slug,
        "name": localized(service.name, locale),
        "alternateName": service.alternative_names.get(locale, []),
        "description": localized(service.summary, locale),
        "url": page_url,
        "inLanguage": locale,
        "areaServed": {"@type": "Country", "name": "Tanzania"},
        "audience": [{"@type": "Audience", "audienceType": a} for a in service.audience],
        "category": [localized(c.name, locale) for c in service.categories],
        "provider": {
            "@type": "GovernmentOrganization",
            "name": localized(institution.name, locale),
            "alternateName": institution.acronym,
            "url": institution.website,
        },
        "serviceOutput": localized(service.output, locale),
        "dateModified": service.last_reviewed.isoformat(),
    }
    channel: dict[str, Any] = {"@type": "ServiceChannel"}
    if "online_url" in channels:
        channel["serviceUrl"] = channels["online_url"]
    if "office" in channels:
        channel["serviceLocation"] = {
            "@type": "Place",
            "name": localized(channels["office"], locale),
        }
    if "serviceUrl" in channel or "serviceLocation" in channel:
        document["availableChannel"] = channel
    fees = service.cost.get("items", [])
    if fees:
        document["offers"] = [
            {
                "@type": "Offer",
                "price": fee["amount_tzs"],
                "priceCurrency": "TZS",
                "description": localized(fee["condition"], locale),
            }
            for fee in fees
        ]
    return document
