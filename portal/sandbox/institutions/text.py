"""The demo institutions' interface strings, Swahili first and English second.

They stand in for other authorities' systems, so they keep their own words rather than the
portal's catalogue. Placeholders are `{name}` fields for `str.format`.
"""

from __future__ import annotations

from portal.sandbox.institutions.config import Words

# key: (Swahili, English)
TEXTS: dict[str, tuple[str, str]] = {
    "skip_link": ("Ruka hadi maudhui", "Skip to main content"),
    "banner": (
        "Majaribio: huu si mfumo halisi wa taasisi hii. Usiweke taarifa zako halisi.",
        "Sandbox: this is not the institution's real system. Do not enter real details.",
    ),
    "error_prefix": ("Hitilafu:", "Error:"),
    "error_summary": ("Kuna tatizo", "There is a problem"),
    "optional": ("(si lazima)", "(optional)"),
    # the front page
    "index_title": ("Huduma zetu", "Our services"),
    "index_intro": (
        "Huduma hizi zinaanzishwa kutoka Mlango, baada ya kuingia kwa NIN yako.",
        "These services are started from Mlango, once you have signed in with your NIN.",
    ),
    # the application page
    "application_title": ("Ombi {reference}", "Application {reference}"),
    "verified_heading": (
        "Taarifa zilizothibitishwa kupitia Mlango",
        "Details verified through Mlango",
    ),
    "verified_note": (
        "Taarifa hizi zimetoka Mlango, zikiwa zimethibitishwa na NIDA. Huwezi kuzibadilisha hapa.",
        "These details came from Mlango, verified by NIDA. You cannot change them here.",
    ),
    "verified_mark": ("Imethibitishwa kupitia Mlango", "Verified through Mlango"),
    "attribute_nin": ("Namba ya Utambulisho wa Taifa (NIN)", "National Identification Number"),
    "attribute_givenName": ("Jina la kwanza", "Given name"),
    "attribute_familyName": ("Jina la ukoo", "Family name"),
    "attribute_birthDate": ("Tarehe ya kuzaliwa", "Date of birth"),
    "attribute_phoneNumber": ("Namba ya simu", "Phone number"),
    "nin_hidden": (
        "(imefichwa isipokuwa tarakimu 4 za mwisho)",
        "(hidden except the last 4 digits)",
    ),
    "purpose": ("Sababu ya kushiriki taarifa", "Why the details were shared"),
    "form_heading": ("Taarifa za ombi", "Application details"),
    "submit": ("Wasilisha ombi", "Submit the application"),
    "status_heading": ("Hali ya ombi", "Application status"),
    "submitted_text": (
        "Umewasilisha ombi hili. Utajulishwa hatua zake kupitia Mlango.",
        "You have submitted this application. You will hear how it goes through Mlango.",
    ),
    "answers_heading": ("Ulichojaza", "What you entered"),
    "return_to_mlango": ("Rudi Mlango: maombi yako", "Back to Mlango: your applications"),
    # form errors
    "field_missing": ("{label}: jaza sehemu hii", "{label}: fill in this field"),
    "choice_missing": ("{label}: chagua mojawapo", "{label}: choose one"),
    "field_too_long": (
        "{label}: isizidi herufi {max_length}",
        "{label}: at most {max_length} characters",
    ),
    "field_pattern": ("{label}: angalia muundo wake", "{label}: check its format"),
    "date_format": (
        "{label}: andika tarehe kama 2026-10-31",
        "{label}: write the date like 2026-10-31",
    ),
    "date_future": (
        "{label}: tarehe haiwezi kuwa ya baadaye",
        "{label}: the date cannot be in the future",
    ),
    # statuses
    "status_received": ("Limepokelewa", "Received"),
    "status_in_review": ("Linakaguliwa", "In review"),
    "status_approved": ("Limekubaliwa", "Approved"),
    "status_rejected": ("Limekataliwa", "Rejected"),
    # message pages (shown in both languages)
    "launch_invalid_title": (
        "Kiungo hiki kimepitwa na muda au kimeshatumika",
        "This link has expired or was used",
    ),
    "launch_invalid_text": (
        "Kila kiungo kutoka Mlango kinatumika mara moja tu, kwa dakika chache. Anza tena kutoka"
        " Mlango.",
        "Each link from Mlango works once only, for a few minutes. Start again from Mlango.",
    ),
    "forbidden_title": ("Huwezi kuona ombi hili", "You cannot see this application"),
    "forbidden_text": (
        "Ombi hufunguka tu kwenye kivinjari kilichofika hapa kutoka Mlango. Anza tena kutoka"
        " Mlango.",
        "An application opens only in the browser that came here from Mlango. Start again from"
        " Mlango.",
    ),
    "form_expired_title": ("Fomu imepitwa na muda", "This form has expired"),
    "form_expired_text": (
        "Fungua ukurasa tena na ujaribu tena.",
        "Open the page again and try once more.",
    ),
    "not_found_title": ("Ukurasa haupatikani", "Page not found"),
    "not_found_text": ("Angalia anwani ya ukurasa.", "Check the page address."),
    # the back office
    "office_title": ("Ofisi: maombi", "Back office: applications"),
    "office_warning": (
        "Majaribio tu: ukurasa huu hauna kuingia, kwa hiyo yeyote anaweza kukubali au kukataa"
        " maombi.",
        "Sandbox only: this page has no sign-in, so anyone can approve or reject applications.",
    ),
    "office_none": ("Hakuna maombi bado.", "No applications yet."),
    "office_service": ("Huduma", "Service"),
    "office_applicant": ("Mwombaji", "Applicant"),
    "office_status": ("Hali", "Status"),
    "office_waiting": (
        "Inasubiri mwombaji ajaze fomu.",
        "Waiting for the applicant to fill in the form.",
    ),
    "office_decided": ("Limeshaamuliwa.", "Already decided."),
    "office_decision": ("Uamuzi", "Decision"),
    "office_note": ("Ujumbe kwa mwombaji", "Message to the applicant"),
    "office_approve": ("Kubali", "Approve"),
    "office_reject": ("Kataa", "Reject"),
    "office_pushes": ("Taarifa za hali kwenda Mlango", "Status updates to Mlango"),
    "office_push_delivered": ("imefika", "delivered"),
    "office_push_pending": ("haijafika bado", "not yet delivered"),
    "office_push_error": ("sababu: {reason}", "reason: {reason}"),
    "office_retry": ("Tuma tena sasa", "Send again now"),
    "office_not_open": (
        "Ombi hili haliwezi kuamuliwa sasa",
        "This application cannot be decided now",
    ),
    "office_decision_missing": ("Chagua kukubali au kukataa", "Choose approve or reject"),
    "office_note_too_long": (
        "Ujumbe usizidi herufi {max_length}",
        "The message must be at most {max_length} characters",
    ),
    # what the status pushes say
    "push_in_review": (
        "Ombi lako limewasilishwa na linakaguliwa.",
        "Your application has been submitted and is being reviewed.",
    ),
    "push_approved": ("Ombi lako limekubaliwa.", "Your application has been approved."),
    "push_rejected": ("Ombi lako limekataliwa.", "Your application has been rejected."),
    "push_note": ("Ujumbe wa afisa: {note}", "Officer's note: {note}"),
}


def text(language: str, key: str, **values: object) -> str:
    """The string `key` in `language` (Swahili unless "en"), its placeholders filled."""
    swahili, english = TEXTS[key]
    template = english if language == "en" else swahili
    return template.format(**values) if values else template


def words(key: str, **values: object) -> Words:
    """The string `key` in both languages."""
    return Words(sw=text("sw", key, **values), en=text("en", key, **values))
