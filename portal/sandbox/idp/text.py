"""The provider's few interface strings, Swahili first and English second.

The sandbox keeps its own words rather than the portal's catalogue: it stands in for another
authority's pages. Placeholders are `{name}` fields for `str.format`.
"""

from __future__ import annotations

from collections.abc import Iterable

LANGUAGES = ("sw", "en")
DEFAULT_LANGUAGE = "sw"
LANGUAGE_NAMES = {"sw": "Kiswahili", "en": "English"}

# key: (Swahili, English)
TEXTS: dict[str, tuple[str, str]] = {
    "site_name": ("NIDA (majaribio)", "NIDA (sandbox)"),
    "skip_link": ("Ruka hadi maudhui", "Skip to main content"),
    "banner": (
        "Majaribio: hii si NIDA halisi. Ni kwa kujaribu tu; usiweke taarifa zako halisi.",
        "Sandbox: this is not the real NIDA. It is for testing only; do not enter real details.",
    ),
    "banner_code": (
        "Namba ya siri iliyotumwa (majaribio tu): {code}",
        "The one-time code sent (testing only): {code}",
    ),
    "banner_citizens": ("Wananchi wa majaribio", "Demo citizens"),
    "error_prefix": ("Hitilafu:", "Error:"),
    "error_summary": ("Kuna tatizo", "There is a problem"),
    "continue": ("Endelea", "Continue"),
    "cancel": ("Ghairi", "Cancel"),
    "return_to_service": ("Rudi kwenye huduma", "Return to the service"),
    # NIN page
    "nin_title": (
        "Ingia kwa Namba ya Utambulisho wa Taifa",
        "Sign in with your National Identification Number",
    ),
    "nin_intro": (
        "{client} inaomba uthibitishe wewe ni nani kupitia NIDA.",
        "{client} asks you to prove who you are through NIDA.",
    ),
    "level_low": (
        "Utaombwa NIN yako na tarehe yako ya kuzaliwa.",
        "You will be asked for your NIN and your date of birth.",
    ),
    "level_substantial": (
        "Tutatuma namba ya siri kwa simu uliyosajili NIDA.",
        "We will send a code to the phone you registered at NIDA.",
    ),
    "level_high": (
        "Tutatuma namba ya siri kwa simu uliyosajili NIDA, kisha utaweka PIN yako.",
        "We will send a code to the phone you registered at NIDA, then ask for your PIN.",
    ),
    "nin_label": ("Namba ya Utambulisho wa Taifa (NIN)", "National Identification Number (NIN)"),
    "nin_hint": (
        "Tarakimu 20, kwa mfano 19900101-12345-00001-23. Unaweza kuandika bila vistari.",
        "20 digits, for example 19900101-12345-00001-23. You may leave out the dashes.",
    ),
    "birthdate_label": ("Tarehe ya kuzaliwa", "Date of birth"),
    "birthdate_hint": (
        "Mwaka-mwezi-siku, kwa mfano 1990-01-31",
        "Year-month-day, for example 1990-01-31",
    ),
    "nin_missing": (
        "Weka Namba yako ya Utambulisho wa Taifa",
        "Enter your National Identification Number",
    ),
    "nin_format": (
        "NIN ina tarakimu 20, kama 19900101-12345-00001-23",
        "A NIN has 20 digits, like 19900101-12345-00001-23",
    ),
    "nin_unknown": (
        "Hatukupata NIN hii. Iangalie kisha ujaribu tena",
        "We could not find this NIN. Check it and try again",
    ),
    "birthdate_missing": ("Weka tarehe yako ya kuzaliwa", "Enter your date of birth"),
    "birthdate_format": (
        "Weka tarehe ya kuzaliwa kama 1990-01-31",
        "Enter the date of birth like 1990-01-31",
    ),
    "birthdate_wrong": (
        "Tarehe ya kuzaliwa hailingani na NIN hii. Umebakiza majaribio {left}",
        "The date of birth does not match this NIN. You have {left} attempts left",
    ),
    # code page
    "code_title": ("Weka namba ya siri tuliyokutumia", "Enter the code we sent you"),
    "code_intro": (
        "Tumetuma namba ya siri ya tarakimu 6 kwa simu uliyosajili NIDA, {phone}."
        " Itatumika kwa dakika {minutes}.",
        "We sent a 6-digit code to the phone you registered at NIDA, {phone}."
        " It works for {minutes} minutes.",
    ),
    "code_label": ("Namba ya siri", "One-time code"),
    "code_hint": ("Tarakimu 6", "6 digits"),
    "pin_label": ("PIN yako", "Your PIN"),
    "pin_hint": (
        "Tarakimu 4. Wananchi wa majaribio wana PIN iliyoorodheshwa.",
        "4 digits. Demo citizens have the PIN listed for them.",
    ),
    "code_missing": ("Weka namba ya siri", "Enter the code"),
    "code_wrong": (
        "Namba ya siri si sahihi. Umebakiza majaribio {left}",
        "The code is wrong. You have {left} attempts left",
    ),
    "code_expired": (
        "Namba ya siri imepitwa na muda. Tumekutumia nyingine",
        "The code has expired. We have sent you a new one",
    ),
    "pin_missing": ("Weka PIN yako", "Enter your PIN"),
    "pin_wrong": (
        "PIN si sahihi. Umebakiza majaribio {left}",
        "The PIN is wrong. You have {left} attempts left",
    ),
    # consent page
    "consent_title": ("Ruhusu kutoa taarifa zako", "Allow sharing your details"),
    "consent_intro": (
        "{client} inaomba taarifa hizi kutoka NIDA.",
        "{client} asks NIDA for these details.",
    ),
    "consent_required": ("Zinahitajika", "Required"),
    "consent_optional": ("Si lazima: chagua unazoruhusu", "Optional: choose the ones you allow"),
    "consent_none": (
        "Hakuna taarifa zaidi ya utambulisho wako wa siri kwa huduma hii.",
        "Nothing beyond your private identifier for this service.",
    ),
    "allow": ("Ruhusu", "Allow"),
    "claim_nin": ("Namba ya Utambulisho wa Taifa", "National Identification Number"),
    "claim_name": ("Jina kamili", "Full name"),
    "claim_given_name": ("Jina la kwanza", "Given name"),
    "claim_family_name": ("Jina la ukoo", "Family name"),
    "claim_birthdate": ("Tarehe ya kuzaliwa", "Date of birth"),
    "claim_phone_number": ("Namba ya simu", "Phone number"),
    "claim_address": ("Mkoa unaoishi", "Region you live in"),
    # locked
    "locked_title": ("Umejaribu mara nyingi mno", "Too many wrong attempts"),
    "locked_nin": (
        "Kwa usalama, NIN hii imefungwa kwa dakika {minutes}. Jaribu tena baadaye.",
        "For your safety this NIN is locked for {minutes} minutes. Try again later.",
    ),
    "locked_address": (
        "Kwa usalama, kuingia kutoka kifaa hiki kumesimamishwa kwa dakika {minutes}."
        " Jaribu tena baadaye.",
        "For your safety, signing in from this device is paused for {minutes} minutes."
        " Try again later.",
    ),
    # request and sign-in problems
    "bad_request_title": ("Ombi la kuingia si sahihi", "This sign-in request is not valid"),
    "bad_request_text": (
        "Huduma iliyokuleta hapa imetuma ombi ambalo hatuwezi kulikubali, kwa hiyo hatuwezi"
        " kukurudisha kwake. Funga ukurasa huu na uanze tena kwenye huduma.",
        "The service that sent you here made a request we cannot accept, so we cannot send you"
        " back to it. Close this page and start again at the service.",
    ),
    "bad_request_detail": ("Kwa mtengenezaji wa huduma: {detail}", "For its developers: {detail}"),
    "expired_title": ("Muda wa kuingia umekwisha", "Your sign-in has timed out"),
    "expired_text": (
        "Rudi kwenye huduma uliyokuwa ukitumia na uanze tena.",
        "Go back to the service you were using and start again.",
    ),
    "form_expired_title": ("Fomu imepitwa na muda", "This form has expired"),
    "form_expired_text": (
        "Fungua ukurasa tena kutoka kwenye huduma na ujaribu tena.",
        "Open the page again from the service and try once more.",
    ),
    # logout
    "logout_title": ("Unataka kutoka NIDA?", "Do you want to sign out of NIDA?"),
    "logout_text": (
        "Utatoka NIDA (majaribio) na kwenye huduma zote ulizoingia kupitia NIDA.",
        "You will be signed out of NIDA (sandbox) and of every service you signed in to"
        " through it.",
    ),
    "logout_yes": ("Ndiyo, toka", "Yes, sign out"),
    "logout_no": ("Hapana, endelea kuwa ndani", "No, stay signed in"),
    "logged_out_title": ("Umetoka NIDA", "You have signed out of NIDA"),
    "logged_out_text": (
        "Unaweza kufunga ukurasa huu.",
        "You can close this page.",
    ),
    "stayed_title": ("Bado uko ndani ya NIDA", "You are still signed in to NIDA"),
    # demo citizens page
    "citizens_title": ("Wananchi wa majaribio", "Demo citizens"),
    "citizens_intro": (
        "Watu hawa wote ni wa kubuni. Tumia NIN yao kuingia; kiwango cha juu kinaomba PIN.",
        "Everyone here is made up. Use their NIN to sign in; the high level asks for the PIN.",
    ),
    "column_name": ("Jina", "Name"),
    "column_birthdate": ("Tarehe ya kuzaliwa", "Date of birth"),
    "column_region": ("Mkoa", "Region"),
    "column_pin": ("PIN", "PIN"),
}


def text(language: str, key: str, **values: object) -> str:
    """The string `key` in `language` (Swahili when unknown), its placeholders filled."""
    swahili, english = TEXTS[key]
    template = english if language == "en" else swahili
    return template.format(**values) if values else template


def language_pick(*candidates: str | None) -> str:
    """The first known language among the candidates (each may be a space-separated list of
    tags such as `ui_locales`), else Swahili."""
    for candidate in candidates:
        for tag in _tags(candidate):
            primary = tag.split("-")[0].lower()
            if primary in LANGUAGES:
                return primary
    return DEFAULT_LANGUAGE


def _tags(value: str | None) -> Iterable[str]:
    return value.split() if value else ()
